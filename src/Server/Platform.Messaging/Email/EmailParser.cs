using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using Platform.Channels;

namespace Platform.Messaging.Email;

/// <summary>Where a mail came from in the mailbox (for a Message-ID fallback and the metadata).</summary>
/// <param name="Folder">The IMAP folder.</param>
/// <param name="UidValidity">The folder's UIDVALIDITY.</param>
/// <param name="Uid">The message's UID.</param>
public sealed record MailboxPosition(string Folder, uint UidValidity, uint Uid);

/// <summary>
/// Turns a received mail into an <see cref="IncomingMessage"/>: channel message id = the Message-ID header, conversation = the
/// sender's address, thread = the subject without <c>Re:</c>/<c>Fwd:</c> prefixes, text = the plain-text part (or the HTML part as
/// text) without the quoted earlier mail, attachments recorded by name, type and size.
/// </summary>
public static partial class EmailParser
{
    private const int MaxRawHeaderChars = 16_384;

    /// <summary>The subject with reply and forward prefixes (<c>Re:</c>, <c>Fwd:</c>, <c>AW:</c>, <c>WG:</c>, <c>SV:</c>…, repeated or
    /// numbered like <c>Re[2]:</c>) removed and white space collapsed; null when nothing is left.</summary>
    public static string? NormalizeSubject(string? subject)
    {
        if (string.IsNullOrWhiteSpace(subject)) return null;
        var s = Whitespace().Replace(subject, " ").Trim();
        string previous;
        do
        {
            previous = s;
            s = SubjectPrefix().Replace(s, "").Trim();
        } while (s.Length > 0 && s != previous);
        return s.Length == 0 ? null : s;
    }

    /// <summary>The new text of a reply: quoted lines (<c>&gt; …</c>), the "On … wrote:" line before them, forwarded or original
    /// message blocks, and the signature (after <c>-- </c>) are removed.</summary>
    public static string StripQuotedText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var kept = new List<string>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimEnd();
            if (line == "-- ") break; // the signature separator
            if (OriginalMessage().IsMatch(trimmed)) break;
            if (WroteLine().IsMatch(trimmed) && RestIsQuoteOrEmpty(lines, i + 1)) break;
            // "On Mon, 1 Jan 2024 at 10:00, Someone <a@b>" + next line "wrote:" (clients wrap the attribution).
            if (i + 1 < lines.Length && trimmed.StartsWith("On ", StringComparison.Ordinal) && lines[i + 1].TrimEnd().EndsWith("wrote:", StringComparison.Ordinal)
                && RestIsQuoteOrEmpty(lines, i + 2)) break;
            if (trimmed.StartsWith('>')) continue;
            kept.Add(trimmed);
        }
        return string.Join('\n', kept).Trim();
    }

    private static bool RestIsQuoteOrEmpty(string[] lines, int from)
    {
        for (var j = from; j < lines.Length; j++)
        {
            var t = lines[j].Trim();
            if (t.Length == 0) continue;
            return t.StartsWith('>');
        }
        return true;
    }

    /// <summary>True for mail a program sent (auto-replies, bounces, lists): answering it risks a mail loop.</summary>
    public static bool IsAutomated(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var auto = message.Headers[HeaderId.AutoSubmitted];
        if (!string.IsNullOrWhiteSpace(auto) && !auto.Trim().Equals("no", StringComparison.OrdinalIgnoreCase)) return true;
        var precedence = message.Headers[HeaderId.Precedence]?.Trim().ToLowerInvariant();
        if (precedence is "bulk" or "junk" or "list" or "auto_reply") return true;
        if (message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond")) return true;
        return message.From.Mailboxes.FirstOrDefault()?.Address is { } a
               && (a.StartsWith("mailer-daemon@", StringComparison.OrdinalIgnoreCase) || a.StartsWith("postmaster@", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The Message-IDs this mail refers to: References, then In-Reply-To when not already listed (oldest first).</summary>
    public static IReadOnlyList<string> References(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var list = message.References.Where(r => !string.IsNullOrWhiteSpace(r)).ToList();
        if (!string.IsNullOrWhiteSpace(message.InReplyTo) && !list.Contains(message.InReplyTo, StringComparer.Ordinal)) list.Add(message.InReplyTo);
        return list;
    }

    /// <summary>The name a MIME attachment is recorded under: its file name, else its Content-ID.</summary>
    public static string AttachmentName(MimePart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        return part.FileName is { Length: > 0 } f ? f : part.ContentId ?? "attachment";
    }

    /// <summary>Builds the incoming message, or null when the mail has no usable sender address.</summary>
    /// <param name="channelName">The channel.</param>
    /// <param name="message">The mail.</param>
    /// <param name="position">Where it is in the mailbox.</param>
    /// <param name="policy">The attachment limit.</param>
    /// <param name="receivedAt">Now.</param>
    public static IncomingMessage? Parse(string channelName, MimeMessage message, MailboxPosition position, AttachmentPolicy policy, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(position);
        ArgumentNullException.ThrowIfNull(policy);
        var from = message.From.Mailboxes.FirstOrDefault(m => !string.IsNullOrWhiteSpace(m.Address)) ?? message.Sender;
        if (from is null || string.IsNullOrWhiteSpace(from.Address)) return null;
        var senderAddress = from.Address.Trim().ToLowerInvariant();
        // Replies go where the sender's mail client would send them: Reply-To when set.
        var address = message.ReplyTo.Mailboxes.FirstOrDefault(m => !string.IsNullOrWhiteSpace(m.Address))?.Address.Trim().ToLowerInvariant() ?? senderAddress;
        var displayName = from.Name is { Length: > 0 } name ? name : null;

        var messageId = string.IsNullOrWhiteSpace(message.MessageId)
            ? $"imap:{position.Folder}:{position.UidValidity}:{position.Uid}"
            : message.MessageId;
        var subject = message.Subject ?? "";
        var references = References(message);
        var thread = NormalizeSubject(subject);

        var body = message.TextBody;
        if (body is null && message.HtmlBody is { } html) body = HtmlAsText(html);
        var text = StripQuotedText(body ?? "");

        var attachments = new List<MessageAttachment>();
        var dropped = new List<string>();
        AttachmentRefusal? refused = null;
        foreach (var part in message.Attachments.OfType<MimePart>())
        {
            var fileName = AttachmentName(part);
            var size = DecodedSize(part);
            if (size > policy.MaxBytes)
            {
                dropped.Add($"{fileName} ({size} bytes)");
                // The sender is told (see InboundAttachments): the first file over the limit, as the gateway reads it.
                refused ??= new AttachmentRefusal(fileName, size, true, policy.MaxBytes);
                continue;
            }
            attachments.Add(new MessageAttachment
            {
                Name = fileName, ContentType = part.ContentType.MimeType, Size = size,
                SourceUri = $"imap:{Uri.EscapeDataString(position.Folder)}/{position.UidValidity}/{position.Uid}/{Uri.EscapeDataString(fileName)}",
            });
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["email.subject"] = subject,
            ["email.messageId"] = messageId,
            ["email.folder"] = position.Folder,
            ["email.uidValidity"] = position.UidValidity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["email.uid"] = position.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (references.Count > 0) metadata["email.references"] = string.Join(' ', references.Select(r => $"<{r}>"));
        if (message.To.Mailboxes.Any()) metadata["email.to"] = string.Join(", ", message.To.Mailboxes.Select(m => m.Address));
        if (dropped.Count > 0) metadata["email.droppedAttachments"] = string.Join("; ", dropped);
        if (refused is not null) metadata[InboundAttachments.RefusedMetadataKey] = InboundAttachments.Describe(refused);

        return new IncomingMessage
        {
            ChannelKind = ChannelKind.Email,
            ChannelName = channelName,
            ChannelMessageId = messageId,
            Conversation = new ConversationId(ChannelKind.Email, channelName, address, thread),
            Sender = new ChannelUser(senderAddress, displayName),
            Text = text,
            Attachments = attachments,
            ReplyToChannelMessageId = string.IsNullOrWhiteSpace(message.InReplyTo) ? null : message.InReplyTo,
            ReceivedAt = receivedAt,
            SentAt = message.Date == DateTimeOffset.MinValue ? null : message.Date,
            RawPayload = RawPayload(message, body),
            Metadata = metadata,
        };
    }

    /// <summary>The headers and the text part (attachments are not kept in the inbox).</summary>
    private static string RawPayload(MimeMessage message, string? body)
    {
        var headers = new StringBuilder();
        foreach (var h in message.Headers)
        {
            if (headers.Length > MaxRawHeaderChars) break;
            headers.Append(h.Field).Append(": ").Append(h.Value.Trim()).Append("\r\n");
        }
        return headers.Append("\r\n").Append(body ?? "").ToString();
    }

    private static long DecodedSize(MimePart part)
    {
        if (part.Content is null) return 0;
        using var counter = new MimeKit.IO.MeasuringStream();
        part.Content.DecodeTo(counter);
        return counter.Length;
    }

    /// <summary>The text of an HTML body: scripts and styles dropped, block ends as line breaks, entities decoded.</summary>
    public static string HtmlAsText(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var s = ScriptOrStyle().Replace(html, "");
        s = BlockquoteBlock().Replace(s, m => "\n" + string.Join('\n', HtmlAsText(m.Groups[1].Value).Split('\n').Select(l => "> " + l)) + "\n");
        s = LineBreak().Replace(s, "\n");
        s = Tag().Replace(s, "");
        s = System.Net.WebUtility.HtmlDecode(s).Replace('\u00a0', ' ');
        return string.Join('\n', s.Replace("\r", "", StringComparison.Ordinal).Split('\n').Select(l => l.Trim())).Trim();
    }

    [GeneratedRegex(@"<(script|style|head)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex(@"<blockquote\b[^>]*>(.*?)</blockquote\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex BlockquoteBlock();

    [GeneratedRegex(@"<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>", RegexOptions.IgnoreCase)]
    private static partial Regex LineBreak();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|r)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SubjectPrefix();

    [GeneratedRegex(@"^On .{4,}wrote:$", RegexOptions.CultureInvariant)]
    private static partial Regex WroteLine();

    [GeneratedRegex(@"^(?:-{2,}\s*(?:Original Message|Forwarded message|Ursprüngliche Nachricht)\s*-{2,}|_{20,})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OriginalMessage();
}
