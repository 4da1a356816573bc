using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Platform.Channels;

namespace Platform.Activities.Messaging;

/// <summary>Starts the workflow when a message arrives on a channel (or on any channel); later in a flow, waits for the next
/// message of the conversation.</summary>
[Activity("Platform", "Messaging", "Starts the workflow when a chat, SMS or e-mail message arrives on a channel.", Kind = ActivityKind.Trigger, DisplayName = "Message Received")]
public sealed class MessageReceived : Activity, ITrigger, ITriggerFilter, IValidatesConfiguration
{
    /// <summary>Save-time check: a literal Text Pattern must be a valid regular expression.</summary>
    public IEnumerable<string> ValidateConfiguration(ActivityValidationContext context)
    {
        if (TextPattern.Expression.Type == ExpressionTypes.Literal && TextPatterns.Problem(TextPattern.Expression.Value?.ToString()) is { } problem)
            yield return problem + ". Fix the Text Pattern input of this Message Received, or leave it empty to take every message.";
    }

    /// <summary>The channel name to listen on; empty for every channel.</summary>
    [Input(Description = "The channel to listen on (its configured name). Empty: every channel.")]
    public Input<string> Channel { get; set; } = new("");

    /// <summary>A regular expression the text must match (case-insensitive); empty for every message.</summary>
    [Input(Description = "Only messages whose text matches this regular expression (case-insensitive), e.g. ^(order|status)\\b. Empty: every message.")]
    public Input<string> TextPattern { get; set; } = new("");

    /// <summary>The message (id, channel, conversation, text, sender, attachments…).</summary>
    [Output(Description = "The message: text, sender {id, displayName}, channel, conversation, attachments.")]
    public Output<object?> Message { get; set; } = new();

    /// <summary>The message text.</summary>
    [Output(Description = "The message text.")]
    public Output<string> Text { get; set; } = new();

    /// <summary>The message's language: <c>zh</c> or <c>en</c>.</summary>
    [Output(Description = "The message's language, zh or en: the message's language metadata (the channel's language setting) or detected from its text (Chinese characters → zh).")]
    public Output<string> Language { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context) =>
        [context.Get(Channel) is { Length: > 0 } channel ? channel.Trim() : MessagingNames.AnyChannel];

    /// <inheritdoc />
    public bool Accepts(TriggerIndexContext context, IReadOnlyDictionary<string, object?> input) =>
        TextPatterns.Matches(context.Get(TextPattern), input.GetValueOrDefault("text") as string);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (context.IsTriggerOfWorkflow)
        {
            Conversations.Accept(context, context.WorkflowInput, Message, Text, Language);
            context.Complete();
        }
        else Conversations.Wait(context);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        Conversations.Accept(context, context.ResumeInput, Message, Text, Language);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Suspends the workflow until the next message of its conversation arrives ("Which room?" → "kitchen"), or until
/// the timeout passes.</summary>
[Activity("Platform", "Messaging", "Waits for the next message in the conversation that started the workflow; takes Timeout when none comes in time.", DisplayName = "Wait For Message")]
[FlowNode(DoneOutcome, TimeoutOutcome)]
public sealed class WaitForMessage : Activity
{
    /// <summary>The outcome taken when no message came within <see cref="Timeout"/>.</summary>
    public const string TimeoutOutcome = "Timeout";

    /// <summary>The bookmark name of the timeout (a durable timer, like Delay's).</summary>
    public const string TimeoutBookmarkName = MessagingNames.WaitForMessage + ".Timeout";

    /// <summary>How long to wait; zero or empty waits without a limit.</summary>
    [Input(Description = "How long to wait for the answer: 00:05:00, 30s, 5m, 1h. Empty or 0: no limit. When it passes, the Timeout port is taken.")]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.Zero);

    /// <summary>The message that arrived.</summary>
    [Output(Description = "The message that arrived.")]
    public Output<object?> Message { get; set; } = new();

    /// <summary>Its text.</summary>
    [Output(Description = "The text of the message that arrived.")]
    public Output<string> Text { get; set; } = new();

    /// <summary>The answer's language: <c>zh</c> or <c>en</c>.</summary>
    [Output(Description = "The language of the message that arrived, zh or en (an answer without letters, such as \"1\", keeps the conversation's).")]
    public Output<string> Language { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        Conversations.Wait(context);
        if (Timeout.Get(context) is var timeout && timeout > TimeSpan.Zero)
            context.CreateBookmark(new BookmarkRequest(TimeoutBookmarkName) { ResumeAt = context.UtcNow + timeout });
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        if (context.ResumedBookmark?.Name == TimeoutBookmarkName)
        {
            // Nothing came in time; the engine drops the message bookmark with this completion, so a late answer starts afresh.
            Text.Set(context, "");
            Language.Set(context, context.GetIncomingMessageLanguage());
            context.Complete(TimeoutOutcome);
            return ValueTask.CompletedTask;
        }
        Conversations.Accept(context, context.ResumeInput, Message, Text, Language);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Answers on the conversation the workflow is in, on the channel the message came from.</summary>
[Activity("Platform", "Messaging", "Replies in the conversation, on the channel the message came from. Delivered through the outbox with retries.", DisplayName = "Send Reply")]
public sealed class SendReply : Activity
{
    /// <summary>The reply (Markdown: **bold**, *italic*, `code`, lists, links).</summary>
    [Input(Description = "The reply text. Markdown (**bold**, *italic*, lists, links) is rendered for each channel.", UIHint = UIHints.MultiLine)]
    public Input<string> Text { get; set; } = new("");

    /// <summary>Buttons offered with the reply; each one sends its text back when pressed.</summary>
    [Input(Description = "Quick-reply buttons (each sends its label back when pressed).", UIHint = UIHints.MultiText)]
    public Input<string[]> QuickReplies { get; set; } = new([]);

    /// <summary>The reply in Chinese, sent instead of <see cref="Text"/> when the conversation's language is <c>zh</c>.</summary>
    [Input(Description = "The reply in Chinese (中文), sent instead of Text when the message was Chinese (or the channel's language is zh). Empty: Text is sent.", UIHint = UIHints.MultiLine)]
    public Input<string> TextZh { get; set; } = new("");

    /// <summary>The quick replies in Chinese, offered instead of <see cref="QuickReplies"/> when the conversation's language is <c>zh</c>.</summary>
    [Input(Description = "Quick-reply buttons in Chinese, offered instead of Quick Replies when the message was Chinese. Empty: Quick Replies.", UIHint = UIHints.MultiText)]
    public Input<string[]> QuickRepliesZh { get; set; } = new([]);

    /// <summary>Files sent with the reply: stored attachments (the <c>attachments</c> of an incoming message, or their ids) or
    /// public http(s) URLs.</summary>
    [Input(Description = "Files to send with the reply: stored attachments, e.g. input.message.attachments (each has an id), an attachment id, or a public https URL; a list or one. Empty: none.",
        DefaultSyntax = "JavaScript")]
    public Input<object?> Attachments { get; set; } = new((object?)null);

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
        var chinese = context.GetIncomingMessageLanguage() == "zh";
        var text = chinese && TextZh.Get(context) is { } zh && !string.IsNullOrWhiteSpace(zh) ? zh : Text.Get(context) ?? "";
        var hasAttachments = Attachments.Get(context) is { } given && !(given is string g && string.IsNullOrWhiteSpace(g));
        if (string.IsNullOrWhiteSpace(text) && !hasAttachments)
            throw new ActivityFaultException(FaultCodes.Configuration, "Send Reply has no text: set its Text input (and Text Zh for Chinese replies), or Attachments.", nonRetryable: true);
        var quickReplies = QuickReplies.Get(context) ?? [];
        if (chinese && QuickRepliesZh.Get(context) is { Length: > 0 } zhReplies && zhReplies.Any(q => !string.IsNullOrWhiteSpace(q))) quickReplies = zhReplies;
        var attachments = ReplyAttachments.From(Attachments.Get(context));
        var envelope = new OutgoingEnvelope
        {
            Text = text,
            QuickReplies = quickReplies.Where(q => !string.IsNullOrWhiteSpace(q)).Select(q => new QuickReply(q, q)).ToList(),
            ReplyToChannelMessageId = context.Properties.TryGetValue(MessagingNames.LastMessageIdProperty, out var last) ? last as string : null,
            // A reply streamed before (Ask Model): this final reply replaces its partial bubble (web chat).
            PartialReplyId = context.Properties.TryGetValue(ReplyStreaming.PartialReplyIdProperty, out var partial) ? partial?.ToString() : null,
            Attachments = attachments.Count > 0 ? attachments : null,
        };
        context.Properties.Remove(ReplyStreaming.PartialReplyIdProperty);
        var id = context.AddOutboxMessage(new OutboxMessageRequest(channel, envelope.ToJson()) { ConversationKey = conversation });
        MessageId.Set(context, id);
        context.AddJournalData("channel", channel);
        context.AddJournalData("conversation", conversation);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Sends a message on any configured channel: an e-mail, an SMS, a Slack or Telegram post, an MQTT publish; to one target
/// or to several at once (the multi-channel fan-out), with a result per target.
/// </summary>
[Activity("Platform", "Messaging", "Sends a message on configured channels to recipients (e-mail address, phone number, chat id, topic); several targets at once, with a Sent/Failed result per target.", DisplayName = "Send Message")]
[FlowNode(SentOutcome, FailedOutcome)]
public sealed class SendMessage : Activity
{
    /// <summary>Every target was queued (or, with <see cref="WaitForDelivery"/>, delivered).</summary>
    public const string SentOutcome = "Sent";

    /// <summary>At least one target could not be queued (or, with <see cref="WaitForDelivery"/>, was not delivered in time).</summary>
    public const string FailedOutcome = "Failed";

    private const string TimeoutBookmark = MessagingNames.DeliveryBookmark + ".Timeout";

    /// <summary>The channel name.</summary>
    [Input(Description = "The channel to send on (its configured name).", Order = 0)]
    public Input<string> Channel { get; set; } = new("");

    /// <summary>The recipient, in the channel's terms.</summary>
    [Input(Description = "The recipient: e-mail address, E.164 phone number, Slack channel id, Telegram chat id, MQTT topic, web chat conversation.", Order = 1)]
    public Input<string> To { get; set; } = new("");

    /// <summary>More targets, each <c>channel:recipient</c>.</summary>
    [Input(Description = "More targets at once, each as channel:recipient, e.g. email:manager@example.com, slack:#reports, sms:+15550100.", UIHint = UIHints.MultiText, Order = 2)]
    public Input<string[]> Targets { get; set; } = new([]);

    /// <summary>A subject (e-mail).</summary>
    [Input(Description = "The subject (e-mail only).", Order = 3)]
    public Input<string> Subject { get; set; } = new("");

    /// <summary>The message (Markdown).</summary>
    [Input(Description = "The message text (Markdown), rendered for each channel: HTML for e-mail and Telegram, mrkdwn for Slack, plain text for SMS.", UIHint = UIHints.MultiLine, Order = 4)]
    public Input<string> Text { get; set; } = new("");

    /// <summary>Whether to wait until every message is delivered or dead-lettered before going on.</summary>
    [Input(Description = "Wait until every message is delivered (or has failed for good) before going on. Off: go on once they are queued; the outbox delivers them with retries.", Order = 5)]
    public Input<bool> WaitForDelivery { get; set; } = new(false);

    /// <summary>How long to wait for the deliveries.</summary>
    [Input(Description = "With Wait For Delivery: how long to wait; targets still pending then count as failed.", Order = 6)]
    public Input<TimeSpan> DeliveryTimeout { get; set; } = new(TimeSpan.FromMinutes(5));

    /// <summary>The outbox message id (of the first target).</summary>
    [Output(Description = "The outbox message id (of the first target).")]
    public Output<string> MessageId { get; set; } = new();

    /// <summary>One result per target.</summary>
    [Output(Description = "One result per target: {channel, to, messageId, status (queued, sent, failed, pending), error}.")]
    public Output<List<Dictionary<string, object?>>> Results { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var targets = new List<(string Channel, string To, string? Problem)>();
        var channel = Channel.Get(context)?.Trim();
        var to = To.Get(context)?.Trim();
        if (!string.IsNullOrEmpty(channel) || !string.IsNullOrEmpty(to))
            targets.Add((channel ?? "", to ?? "", string.IsNullOrEmpty(channel) ? $"The recipient '{to}' has no channel: set the Channel input."
                : string.IsNullOrEmpty(to) ? $"Send Message on '{channel}' needs a recipient (To)." : null));
        foreach (var line in Targets.Get(context) ?? [])
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var c = colon > 0 ? line[..colon].Trim() : "";
            var t = colon > 0 ? line[(colon + 1)..].Trim() : line.Trim();
            targets.Add((c, t, c.Length == 0 || t.Length == 0 ? $"The target '{line.Trim()}' is not channel:recipient (e.g. email:manager@example.com)." : null));
        }
        if (targets.Count == 0)
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Send Message has no target: set Channel and To (a channel configured under /api/channels and a recipient), or list Targets as channel:recipient.",
                nonRetryable: true);

        var wait = WaitForDelivery.Get(context);
        var subject = Subject.Get(context) is { Length: > 0 } s ? s : null;
        var text = Text.Get(context) ?? "";
        var results = new List<Dictionary<string, object?>>();
        foreach (var (c, t, problem) in targets)
        {
            string? id = null;
            if (problem is null)
            {
                var envelope = new OutgoingEnvelope { Text = text, To = t, Subject = subject, NotifyDelivery = wait };
                id = context.AddOutboxMessage(new OutboxMessageRequest(c, envelope.ToJson()));
            }
            results.Add(new Dictionary<string, object?>
            {
                ["channel"] = c, ["to"] = t, ["messageId"] = id,
                ["status"] = problem is not null ? DeliveryStatus.Failed : wait ? DeliveryStatus.Pending : DeliveryStatus.Queued, ["error"] = problem,
            });
        }
        MessageId.Set(context, results.Select(r => r["messageId"] as string).FirstOrDefault(i => i is not null) ?? "");
        context.AddJournalData("targets", string.Join(", ", targets.Select(x => $"{x.Channel}:{x.To}")));

        if (wait && results.Any(r => r["messageId"] is not null))
        {
            Wait(context, results);
            if (DeliveryTimeout.Get(context) is var timeout && timeout > TimeSpan.Zero)
                context.CreateBookmark(new BookmarkRequest(TimeoutBookmark, context.ActivityInstanceId)
                {
                    ResumeAt = context.UtcNow + timeout, Payload = { ["results"] = results },
                });
            return ValueTask.CompletedTask;
        }
        Finish(context, results);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        var results = ReadResults(context.ResumedBookmark?.Payload.TryGetValue("results", out var stored) == true ? stored : null);
        var timedOut = context.ResumedBookmark?.Name == TimeoutBookmark;
        var pending = results.Where(r => r["messageId"] is string).ToList();
        var statuses = context.GetService(typeof(IMessageDeliveryStatus)) as IMessageDeliveryStatus;
        if (statuses is not null && pending.Count > 0)
        {
            var now = await statuses.GetAsync(pending.ConvertAll(r => (string)r["messageId"]!), context.CancellationToken);
            for (var i = 0; i < pending.Count; i++)
            {
                pending[i]["status"] = now[i].Status;
                pending[i]["error"] = now[i].Error;
            }
        }
        if (!timedOut && results.Any(r => r["status"] as string == DeliveryStatus.Pending))
        {
            Wait(context, results); // some are still on their way; the timeout's bookmark stays
            return;
        }
        foreach (var r in results.Where(r => r["status"] as string == DeliveryStatus.Pending))
            r["error"] = $"Not delivered within {DeliveryTimeout.Get(context)}" + (r["error"] is string e ? $": {e}" : ".");
        Finish(context, results);
    }

    private static void Wait(ActivityExecutionContext context, List<Dictionary<string, object?>> results) =>
        context.CreateBookmark(new BookmarkRequest(MessagingNames.DeliveryBookmark, context.ActivityInstanceId)
        {
            Payload = { ["results"] = results },
        });

    private void Finish(ActivityExecutionContext context, List<Dictionary<string, object?>> results)
    {
        Results.Set(context, results);
        var failed = results.Count(r => r["status"] as string is not (DeliveryStatus.Queued or DeliveryStatus.Sent));
        context.AddJournalData("failed", failed);
        context.Complete(failed > 0 ? FailedOutcome : SentOutcome);
    }

    private static List<Dictionary<string, object?>> ReadResults(object? value) =>
        value is System.Collections.IEnumerable items and not string
            ? items.OfType<IEnumerable<KeyValuePair<string, object?>>>().Select(d => d.ToDictionary(kv => kv.Key, kv => kv.Value)).ToList()
            : [];
}

/// <summary>The text patterns of <see cref="MessageReceived"/>: compiled once, case-insensitive, with a match timeout.</summary>
public static class TextPatterns
{
    private static readonly ConcurrentDictionary<string, Regex?> Cache = new(StringComparer.Ordinal);

    /// <summary>How long one match may take before it counts as no match (a pattern that backtracks badly).</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Why <paramref name="pattern"/> is not a valid regular expression; null when it is (or is empty).</summary>
    public static string? Problem(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return null;
        try { _ = Compile(pattern); return null; }
        catch (ArgumentException e) { return $"The text pattern '{pattern}' is not a valid regular expression: {e.Message}"; }
    }

    /// <summary>True when the pattern is empty, or the text matches it. An invalid pattern or a match that times out matches nothing.</summary>
    public static bool Matches(string? pattern, string? text)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return true;
        if (Cache.Count > 1000) Cache.Clear();
        var regex = Cache.GetOrAdd(pattern, p => { try { return Compile(p); } catch (ArgumentException) { return null; } });
        if (regex is null) return false;
        try { return regex.IsMatch(text ?? ""); }
        catch (RegexMatchTimeoutException) { return false; }
    }

    private static Regex Compile(string pattern) =>
        new(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, MatchTimeout);
}

/// <summary>The conversation state the messaging activities keep in the instance's properties.</summary>
internal static class Conversations
{
    public static void Accept(ActivityExecutionContext context, IReadOnlyDictionary<string, object?> input, Output<object?> message, Output<string> text,
        Output<string> language)
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
        var received = m?.TryGetValue("text", out var t) == true ? t?.ToString() ?? "" : input.GetValueOrDefault("text")?.ToString() ?? "";
        text.Set(context, received);
        context.Properties[TriggeringMessage.TextProperty] = received;
        // The reply language: the message's "language" metadata (a channel's language setting) wins; otherwise detected from
        // the text; a text without letters ("1", "ok" is English) keeps the conversation's language.
        var configured = m?.TryGetValue("metadata", out var md) == true && md is IDictionary<string, object?> metadata
            && metadata.TryGetValue("language", out var l) ? NormalizeLanguage(l?.ToString()) : null;
        var detected = configured ?? TriggeringMessage.DetectLanguage(received);
        if (detected is not null) context.Properties[TriggeringMessage.LanguageProperty] = detected;
        language.Set(context, context.GetIncomingMessageLanguage());
    }

    /// <summary><c>zh</c> or <c>en</c> for a configured language (zh, zh-CN, zh-Hans, chinese, 中文 / en, en-US, english), else null.</summary>
    public static string? NormalizeLanguage(string? value)
    {
        var v = value?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(v)) return null;
        if (v.StartsWith("zh", StringComparison.Ordinal) || v is "chinese" or "中文" or "cn") return "zh";
        if (v.StartsWith("en", StringComparison.Ordinal) || v is "english") return "en";
        return null;
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

/// <summary>Reads Send Reply's Attachments input: stored attachments (dictionaries with <c>id</c>, as in
/// <c>input.message.attachments</c>; their ids; <c>attachment:&lt;id&gt;</c>) and public http(s) URLs, one or a list.</summary>
public static class ReplyAttachments
{
    /// <summary>The most files one reply may carry.</summary>
    public const int MaxCount = 10;

    /// <summary>The envelope attachments of <paramref name="value"/>.</summary>
    /// <exception cref="ActivityFaultException">An entry is neither a stored attachment nor an http(s) URL.</exception>
    public static List<EnvelopeAttachment> From(object? value)
    {
        var list = new List<EnvelopeAttachment>();
        if (value is null || value is string { Length: 0 }) return list;
        System.Text.Json.Nodes.JsonNode? node;
        try
        {
            node = value is string text && text.TrimStart().StartsWith('[') || value is string t2 && t2.TrimStart().StartsWith('{')
                ? System.Text.Json.Nodes.JsonNode.Parse((string)value)
                : System.Text.Json.JsonSerializer.SerializeToNode(value);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            throw Invalid($"it could not be read ({e.Message})");
        }
        List<System.Text.Json.Nodes.JsonNode?> entries = node is System.Text.Json.Nodes.JsonArray array ? [.. array] : [node];
        foreach (var entry in entries)
        {
            if (entry is null) continue;
            if (list.Count == MaxCount) throw Invalid($"a reply carries at most {MaxCount} files");
            list.Add(entry switch
            {
                System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var s) => FromText(s),
                System.Text.Json.Nodes.JsonObject o => FromObject(o),
                _ => throw Invalid($"'{entry.ToJsonString()}' is neither an attachment nor a URL"),
            });
        }
        return list;
    }

    private static EnvelopeAttachment FromText(string text)
    {
        text = text.Trim();
        if (text.StartsWith(AttachmentStoreUrls.Scheme, StringComparison.Ordinal)) text = text[AttachmentStoreUrls.Scheme.Length..];
        if (text.StartsWith(AttachmentStoreUrls.Prefix + "/", StringComparison.Ordinal)) text = text[(AttachmentStoreUrls.Prefix.Length + 1)..];
        if (IsId(text)) return new EnvelopeAttachment { Id = text };
        if (AttachmentPolicy.IsHttpUrl(text))
            return new EnvelopeAttachment { Url = text, Name = Uri.TryCreate(text, UriKind.Absolute, out var u) && Path.GetFileName(u.AbsolutePath) is { Length: > 0 } n ? n : "file" };
        throw Invalid($"'{(text.Length > 80 ? text[..80] + "…" : text)}' is neither an attachment id nor an http(s) URL");
    }

    private static EnvelopeAttachment FromObject(System.Text.Json.Nodes.JsonObject o)
    {
        string? Str(string key) => o[key] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
        var id = Str("id") ?? (Str("blob") is { } blob && blob.StartsWith(AttachmentStoreUrls.Scheme, StringComparison.Ordinal) ? blob[AttachmentStoreUrls.Scheme.Length..] : null);
        var basis = id is not null && IsId(id) ? new EnvelopeAttachment { Id = id }
            : Str("url") is { } url ? FromText(url)
            : throw Invalid("an attachment object needs an \"id\" (a stored attachment) or a \"url\"");
        return basis with
        {
            Name = Str("name") ?? basis.Name,
            ContentType = Str("contentType") ?? basis.ContentType,
            Size = o["size"] is System.Text.Json.Nodes.JsonValue size && size.TryGetValue<long>(out var n) ? n : o["size"] is System.Text.Json.Nodes.JsonValue d && d.TryGetValue<double>(out var f) ? (long)f : -1,
        };
    }

    private static bool IsId(string text) => text.Length == 32 && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static ActivityFaultException Invalid(string why) => new(FaultCodes.Configuration,
        $"Send Reply's Attachments: {why}. Give input.message.attachments, an attachment id, or a public https URL.", nonRetryable: true);
}
