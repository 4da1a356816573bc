using Platform.Channels;

namespace Platform.Activities.Messaging;

/// <summary>Starts the workflow when a message arrives on a channel (or on any channel); later in a flow, waits for the next
/// message of the conversation.</summary>
[Activity("Platform", "Messaging", "Starts the workflow when a chat, SMS or e-mail message arrives on a channel.", Kind = ActivityKind.Trigger, DisplayName = "Message Received")]
public sealed class MessageReceived : Activity, ITrigger
{
    /// <summary>The channel name to listen on; empty for every channel.</summary>
    [Input(Description = "The channel to listen on (its configured name). Empty: every channel.")]
    public Input<string> Channel { get; set; } = new("");

    /// <summary>The message (id, channel, conversation, text, sender, attachments…).</summary>
    [Output(Description = "The message: text, sender {id, displayName}, channel, conversation, attachments.")]
    public Output<object?> Message { get; set; } = new();

    /// <summary>The message text.</summary>
    [Output(Description = "The message text.")]
    public Output<string> Text { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context) =>
        [context.Get(Channel) is { Length: > 0 } channel ? channel.Trim() : MessagingNames.AnyChannel];

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (context.IsTriggerOfWorkflow)
        {
            Conversations.Accept(context, context.WorkflowInput, Message, Text);
            context.Complete();
        }
        else Conversations.Wait(context);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        Conversations.Accept(context, context.ResumeInput, Message, Text);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Suspends the workflow until the next message of its conversation arrives ("Which room?" → "kitchen").</summary>
[Activity("Platform", "Messaging", "Waits for the next message in the conversation that started the workflow.", DisplayName = "Wait For Message")]
public sealed class WaitForMessage : Activity
{
    /// <summary>The message that arrived.</summary>
    [Output(Description = "The message that arrived.")]
    public Output<object?> Message { get; set; } = new();

    /// <summary>Its text.</summary>
    [Output(Description = "The text of the message that arrived.")]
    public Output<string> Text { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        Conversations.Wait(context);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        Conversations.Accept(context, context.ResumeInput, Message, Text);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Answers on the conversation the workflow is in, on the channel the message came from.</summary>
[Activity("Platform", "Messaging", "Replies in the conversation, on the channel the message came from. Delivered through the outbox with retries.", DisplayName = "Send Reply")]
public sealed class SendReply : Activity
{
    /// <summary>The reply (Markdown: **bold**, *italic*, `code`, lists, links).</summary>
    [Input(Description = "The reply text. Markdown (**bold**, *italic*, lists, links) is rendered for each channel.", UIHint = "multi-line")]
    public Input<string> Text { get; set; } = new("");

    /// <summary>Buttons offered with the reply; each one sends its text back when pressed.</summary>
    [Input(Description = "Quick-reply buttons (each sends its label back when pressed).", UIHint = "multi-text")]
    public Input<string[]> QuickReplies { get; set; } = new([]);

    /// <summary>The outbox message id.</summary>
    [Output(Description = "The outbox message id of the reply.")]
    public Output<string> MessageId { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var conversation = context.Properties.TryGetValue(MessagingNames.ConversationProperty, out var c) ? c as string : null;
        var channel = context.Properties.TryGetValue(MessagingNames.ChannelProperty, out var ch) ? ch as string : null;
        if (string.IsNullOrEmpty(conversation) || string.IsNullOrEmpty(channel))
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Send Reply answers a conversation, but this workflow was not started by a message. Start it with Message Received, or use Send Message with a channel and a recipient.",
                nonRetryable: true);
        var text = Text.Get(context) ?? "";
        if (string.IsNullOrWhiteSpace(text))
            throw new ActivityFaultException(FaultCodes.Configuration, "Send Reply has no text: set its Text input.", nonRetryable: true);
        var envelope = new OutgoingEnvelope
        {
            Text = text,
            QuickReplies = (QuickReplies.Get(context) ?? []).Where(q => !string.IsNullOrWhiteSpace(q)).Select(q => new QuickReply(q, q)).ToList(),
            ReplyToChannelMessageId = context.Properties.TryGetValue(MessagingNames.LastMessageIdProperty, out var last) ? last as string : null,
        };
        var id = context.AddOutboxMessage(new OutboxMessageRequest(channel, envelope.ToJson()) { ConversationKey = conversation });
        MessageId.Set(context, id);
        context.AddJournalData("channel", channel);
        context.AddJournalData("conversation", conversation);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Sends a message on any configured channel: an e-mail, an SMS, a Slack or Telegram post, an MQTT publish.</summary>
[Activity("Platform", "Messaging", "Sends a message on a configured channel to a recipient (e-mail address, phone number, chat id, topic).", DisplayName = "Send Message")]
public sealed class SendMessage : Activity
{
    /// <summary>The channel name.</summary>
    [Input(Description = "The channel to send on (its configured name).")]
    public Input<string> Channel { get; set; } = new("");

    /// <summary>The recipient, in the channel's terms.</summary>
    [Input(Description = "The recipient: e-mail address, E.164 phone number, Slack channel id, Telegram chat id, MQTT topic, web chat conversation.")]
    public Input<string> To { get; set; } = new("");

    /// <summary>A subject (e-mail).</summary>
    [Input(Description = "The subject (e-mail only).")]
    public Input<string> Subject { get; set; } = new("");

    /// <summary>The message (Markdown).</summary>
    [Input(Description = "The message text (Markdown).", UIHint = "multi-line")]
    public Input<string> Text { get; set; } = new("");

    /// <summary>The outbox message id.</summary>
    [Output(Description = "The outbox message id.")]
    public Output<string> MessageId { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var channel = Channel.Get(context)?.Trim();
        var to = To.Get(context)?.Trim();
        if (string.IsNullOrEmpty(channel))
            throw new ActivityFaultException(FaultCodes.Configuration, "Send Message needs a Channel: the name of a channel configured under /api/channels.", nonRetryable: true);
        if (string.IsNullOrEmpty(to))
            throw new ActivityFaultException(FaultCodes.Configuration, $"Send Message on '{channel}' needs a recipient (To).", nonRetryable: true);
        var envelope = new OutgoingEnvelope { Text = Text.Get(context) ?? "", To = to, Subject = Subject.Get(context) is { Length: > 0 } s ? s : null };
        var id = context.AddOutboxMessage(new OutboxMessageRequest(channel, envelope.ToJson()));
        MessageId.Set(context, id);
        context.AddJournalData("channel", channel);
        context.AddJournalData("to", to);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The conversation state the messaging activities keep in the instance's properties.</summary>
internal static class Conversations
{
    public static void Accept(ActivityExecutionContext context, IReadOnlyDictionary<string, object?> input, Output<object?> message, Output<string> text)
    {
        var m = input.GetValueOrDefault(MessagingNames.MessageInputKey) as IDictionary<string, object?>;
        if (m is not null)
        {
            if (m.TryGetValue("conversation", out var conversation) && conversation is string c) context.Properties[MessagingNames.ConversationProperty] = c;
            if (m.TryGetValue("channel", out var channel) && channel is string ch) context.Properties[MessagingNames.ChannelProperty] = ch;
            if (m.TryGetValue("channelMessageId", out var id) && id is string i) context.Properties[MessagingNames.LastMessageIdProperty] = i;
            if (m.TryGetValue("sender", out var sender) && sender is IDictionary<string, object?> s && s.TryGetValue("id", out var sid))
                context.Properties[MessagingNames.SenderProperty] = sid?.ToString();
        }
        message.Set(context, m);
        text.Set(context, m?.TryGetValue("text", out var t) == true ? t?.ToString() ?? "" : input.GetValueOrDefault("text")?.ToString() ?? "");
    }

    public static void Wait(ActivityExecutionContext context)
    {
        var conversation = context.Properties.TryGetValue(MessagingNames.ConversationProperty, out var c) ? c as string : null;
        if (string.IsNullOrEmpty(conversation))
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Wait For Message waits in a conversation, but this workflow was not started by a message. Start it with Message Received.", nonRetryable: true);
        context.CreateBookmark(new BookmarkRequest(MessagingNames.WaitForMessage, conversation));
    }
}
