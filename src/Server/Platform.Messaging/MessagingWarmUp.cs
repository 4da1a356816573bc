using Platform.Channels;
using Platform.Channels.Rendering;
using Platform.Engine.Contracts;
using Platform.Messaging.WebChat;

namespace Platform.Messaging;

/// <summary>
/// Runs a message's serialisation and rendering once at start, in memory: the inbox payload JSON, the reply envelope,
/// the Markdown rendering for every channel format and the web chat frame. Nothing is sent.
/// </summary>
internal sealed class MessagingWarmUp : IStartupWarmUp
{
    /// <inheritdoc />
    public string Name => "messages (JSON, Markdown rendering, web chat frames)";

    /// <inheritdoc />
    public Task WarmUpAsync(CancellationToken ct)
    {
        var incoming = new IncomingMessage
        {
            ChannelKind = ChannelKind.WebChat, ChannelName = "warm-up", ChannelMessageId = "warm-up",
            Conversation = new ConversationId(ChannelKind.WebChat, "warm-up", "warm-up"), Sender = new ChannelUser("warm-up"), Text = "hello",
            ReceivedAt = DateTimeOffset.UtcNow, RawPayload = "{}",
        };
        MessageJson.Deserialize(MessageJson.Serialize(incoming));
        const string Markdown = "**Warm** up: *one* `two`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [link](https://example.org)";
        var envelope = OutgoingEnvelope.FromJson(new OutgoingEnvelope { Text = Markdown, QuickReplies = [new QuickReply("Yes", "yes")] }.ToJson());
        foreach (var format in Enum.GetValues<TextFormat>())
        {
            ct.ThrowIfCancellationRequested();
            MessageRenderer.Render(Markdown, format);
        }
        WebChatFrames.Message("warm-up", envelope.ToMessage(0, null, null), DateTimeOffset.UtcNow);
        return Task.CompletedTask;
    }
}
