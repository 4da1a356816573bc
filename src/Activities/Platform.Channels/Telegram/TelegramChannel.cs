using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Rendering;

namespace Platform.Channels.Telegram;

/// <summary>
/// One Telegram bot: webhook verification and parsing in, <c>sendMessage</c> (and <c>sendDocument</c>) out. Create
/// one per configured bot with an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.
/// </summary>
public sealed class TelegramChannel : IChannelSender, ITypingChannel, IInboundAttachmentSource
{
    /// <summary>The header Telegram puts the webhook secret token in.</summary>
    public const string SecretTokenHeader = "X-Telegram-Bot-Api-Secret-Token";

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the channel.</summary>
    public TelegramChannel(string channelName, TelegramOptions options, HttpClient http, TimeProvider? time = null,
        ILogger<TelegramChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.BotToken);
        ChannelName = channelName;
        Options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<TelegramChannel>.Instance;
        Api = new TelegramApiClient(http, options, _time);
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Telegram;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public TelegramOptions Options { get; }

    /// <summary>The Bot API client (for <c>setWebhook</c>, <c>getUpdates</c>, <c>answerCallbackQuery</c>, files).</summary>
    public TelegramApiClient Api { get; }

    /// <summary>
    /// Verifies and parses one webhook delivery. <paramref name="secretTokenHeader"/> must equal
    /// <see cref="TelegramOptions.WebhookSecretToken"/> (compared in constant time); without a configured secret every
    /// delivery is refused, since anyone who guesses the URL could post updates.
    /// </summary>
    public InboundResult HandleWebhook(string? secretTokenHeader, string body)
    {
        if (string.IsNullOrEmpty(Options.WebhookSecretToken))
        {
            return Log(InboundResult.Reject(RejectionReason.MissingSignature,
                $"Telegram channel '{ChannelName}' has no webhook secret token configured; set WebhookSecretToken and call setWebhook with it."));
        }

        if (string.IsNullOrEmpty(secretTokenHeader))
        {
            return Log(InboundResult.Reject(RejectionReason.MissingSignature, $"The {SecretTokenHeader} header is missing."));
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secretTokenHeader), Encoding.UTF8.GetBytes(Options.WebhookSecretToken)))
        {
            return Log(InboundResult.Reject(RejectionReason.InvalidSignature, $"The {SecretTokenHeader} header does not match."));
        }

        return Log(ParseUpdate(body));
    }

    /// <summary>Parses an update (from the webhook or from <c>getUpdates</c>) without any verification.</summary>
    public InboundResult ParseUpdate(string json) =>
        TelegramUpdateParser.Parse(ChannelName, json, Options.Attachments, _time.GetUtcNow());

    /// <summary>Registers <paramref name="url"/> as the bot's webhook, with the configured secret token.</summary>
    public Task<TelegramResponse> SetWebhookAsync(Uri url, bool dropPendingUpdates = false, CancellationToken cancellationToken = default) =>
        Api.SetWebhookAsync(url, Options.WebhookSecretToken, dropPendingUpdates, cancellationToken);

    /// <inheritdoc />
    public bool CanOpen(MessageAttachment attachment) =>
        attachment?.SourceUri?.StartsWith(TelegramUpdateParser.FileScheme, StringComparison.Ordinal) == true;

    /// <inheritdoc />
    public Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!CanOpen(attachment)) throw new AttachmentDownloadException($"'{attachment.SourceUri}' is not a Telegram file reference.", false);
        return Api.OpenFileAsync(attachment.SourceUri![TelegramUpdateParser.FileScheme.Length..], attachment.Name, policy, cancellationToken);
    }

    /// <inheritdoc />
    public TimeSpan TypingRefreshInterval => TimeSpan.FromSeconds(4);

    /// <summary><c>sendChatAction</c> with <c>action: "typing"</c> (Telegram shows it for 5 s or until the bot's next message).</summary>
    public async Task<bool> SendTypingAsync(string recipient, string? threadId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(recipient)) return false;
        var response = await Api.SendChatActionAsync(recipient, "typing",
            long.TryParse(threadId, NumberStyles.None, CultureInfo.InvariantCulture, out var thread) ? thread : null, cancellationToken);
        return response.Ok;
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        try
        {
            Options.Attachments.EnsureAllowed(message.Attachments);
        }
        catch (AttachmentTooLargeException exception)
        {
            return SendResult.Permanent(exception.Message, "attachment_too_large");
        }

        if (message.Attachments.FirstOrDefault(a => a.Content is null && string.IsNullOrEmpty(a.SourceUri)) is { } empty)
        {
            return SendResult.Permanent($"Attachment '{empty.Name}' has neither content nor a URL.", "attachment_empty");
        }

        var keyboard = Keyboard(message.QuickReplies, out var keyboardError);
        if (keyboardError is not null)
        {
            return SendResult.Permanent(keyboardError, "BUTTON_DATA_INVALID");
        }

        var texts = MessageRenderer.RenderParts(message.Text, Options.ParseMode, Options.MaxMessageLength);
        if (texts.Count == 0 && keyboard is not null)
        {
            return SendResult.Permanent("A Telegram message with quick-reply buttons needs a text.", "no_text");
        }

        if (texts.Count == 0 && message.Attachments.Count == 0)
        {
            return SendResult.Permanent("The message has neither text nor attachments.", "no_text");
        }

        var parseMode = Options.ParseMode switch
        {
            TextFormat.TelegramHtml => "HTML",
            TextFormat.TelegramMarkdownV2 => "MarkdownV2",
            _ => null,
        };
        var replyTo = ReplyToMessageId(message.ReplyToChannelMessageId);
        var thread = long.TryParse(message.ThreadId, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : (long?)null;
        var total = texts.Count + message.Attachments.Count;
        var result = await Http.PartSender.SendAsync(total, message.SkipParts, async (index, ct) =>
        {
            var response = index < texts.Count
                ? await Api.SendMessageAsync(recipient, texts[index], parseMode, index == 0 ? replyTo : null, thread,
                    index == texts.Count - 1 ? keyboard : null, ct)
                : await Api.SendDocumentAsync(recipient, message.Attachments[index - texts.Count], texts.Count == 0 && index == 0 ? replyTo : null,
                    thread, ct);
            if (!response.Ok)
            {
                return (null, response.Failure);
            }

            var id = response.Result?["message_id"]?.GetValue<long>();
            return (id is { } m ? $"{recipient}:{m.ToString(CultureInfo.InvariantCulture)}" : null, null);
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Telegram channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    /// <summary>The Telegram <c>message_id</c> in a channel message id (<c>chat:message</c> or a bare number).</summary>
    internal static long? ReplyToMessageId(string? channelMessageId)
    {
        if (string.IsNullOrEmpty(channelMessageId) || channelMessageId.StartsWith("callback:", StringComparison.Ordinal))
        {
            return null;
        }

        var last = channelMessageId[(channelMessageId.LastIndexOf(':') + 1)..];
        return long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    private static JsonObject? Keyboard(IReadOnlyList<QuickReply> replies, out string? error)
    {
        error = null;
        if (replies.Count == 0)
        {
            return null;
        }

        var rows = new JsonArray();
        foreach (var reply in replies)
        {
            var bytes = Encoding.UTF8.GetByteCount(reply.Value);
            if (bytes is < 1 or > 64)
            {
                error = $"Quick reply '{reply.Label}' has a value of {bytes} bytes; Telegram's callback_data takes 1 to 64 bytes.";
                return null;
            }

            rows.Add(new JsonArray(new JsonObject { ["text"] = reply.Label, ["callback_data"] = reply.Value }));
        }

        return new JsonObject { ["inline_keyboard"] = rows };
    }

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Telegram channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
