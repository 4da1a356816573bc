using System.Diagnostics.CodeAnalysis;

namespace Platform.Channels;

/// <summary>
/// Identifies a conversation: the channel (kind and configured name) plus the channel's chat and, where the channel
/// has threads, the thread. The string form is <c>kind:channel:chat</c> or <c>kind:channel:chat:thread</c>, each part
/// percent-encoded, for example <c>slack:acme:C024BE91L:1712345678.000100</c>.
/// </summary>
public readonly record struct ConversationId
{
    /// <summary>Creates a conversation id.</summary>
    public ConversationId(ChannelKind kind, string channelName, string chatId, string? threadId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(chatId);
        Kind = kind;
        ChannelName = channelName;
        ChatId = chatId;
        ThreadId = string.IsNullOrEmpty(threadId) ? null : threadId;
    }

    /// <summary>The channel kind.</summary>
    public ChannelKind Kind { get; }

    /// <summary>The configured channel name.</summary>
    public string ChannelName { get; }

    /// <summary>The channel's chat: Telegram chat id, Slack channel id, phone number, webhook conversation key…</summary>
    public string ChatId { get; }

    /// <summary>The thread inside the chat (Slack <c>thread_ts</c>, Telegram forum topic), or null.</summary>
    public string? ThreadId { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = $"{Kind.ToString().ToLowerInvariant()}:{Uri.EscapeDataString(ChannelName)}:{Uri.EscapeDataString(ChatId)}";
        return ThreadId is null ? text : $"{text}:{Uri.EscapeDataString(ThreadId)}";
    }

    /// <summary>Parses the string form written by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException">The text is not a conversation id.</exception>
    public static ConversationId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException($"'{text}' is not a conversation id (kind:channel:chat[:thread]).");

    /// <summary>Tries to parse the string form written by <see cref="ToString"/>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out ConversationId id)
    {
        id = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var parts = text.Split(':');
        if (parts.Length is < 3 or > 4 || !Enum.TryParse<ChannelKind>(parts[0], ignoreCase: true, out var kind)
            || int.TryParse(parts[0], out _) || parts[1].Length == 0 || parts[2].Length == 0)
        {
            return false;
        }

        id = new ConversationId(kind, Uri.UnescapeDataString(parts[1]), Uri.UnescapeDataString(parts[2]),
            parts.Length == 4 ? Uri.UnescapeDataString(parts[3]) : null);
        return true;
    }
}
