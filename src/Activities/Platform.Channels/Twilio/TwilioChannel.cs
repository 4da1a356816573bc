using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Http;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;
using HttpClient = System.Net.Http.HttpClient;

namespace Platform.Channels.Twilio;

/// <summary>A delivery status update from Twilio's <c>StatusCallback</c>.</summary>
public sealed record TwilioMessageStatus
{
    /// <summary>The message (<c>SM…</c>).</summary>
    public required string MessageSid { get; init; }

    /// <summary><c>queued</c>, <c>sending</c>, <c>sent</c>, <c>delivered</c>, <c>undelivered</c>, <c>failed</c>,
    /// <c>read</c>…</summary>
    public required string Status { get; init; }

    /// <summary>The error code for <c>failed</c>/<c>undelivered</c> (for example <c>30003</c>), or null.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The recipient.</summary>
    public string? To { get; init; }

    /// <summary>The sender.</summary>
    public string? From { get; init; }

    /// <summary>True for <c>delivered</c> or <c>read</c>.</summary>
    public bool IsDelivered => Status is "delivered" or "read";

    /// <summary>True for <c>failed</c> or <c>undelivered</c>.</summary>
    public bool IsFailed => Status is "failed" or "undelivered";

    // The meaning of the error codes Twilio reports most often with failed and undelivered messages (https://www.twilio.com/docs/errors).
    private static readonly Dictionary<string, string> ErrorNames = new(StringComparer.Ordinal)
    {
        ["30001"] = "queue overflow", ["30002"] = "account suspended", ["30003"] = "unreachable destination handset",
        ["30004"] = "message blocked", ["30005"] = "unknown destination handset", ["30006"] = "landline or unreachable carrier",
        ["30007"] = "message filtered by the carrier", ["30008"] = "unknown error", ["30010"] = "message price exceeds max price",
        ["21610"] = "the recipient replied STOP", ["21614"] = "'To' is not a valid mobile number",
    };

    /// <summary>A sentence for the outbox: <c>Twilio reports the SMS undelivered, error 30003 (unreachable destination handset),
    /// https://www.twilio.com/docs/errors/30003</c>.</summary>
    public string Describe()
    {
        var text = $"Twilio reports the SMS {Status}";
        if (ErrorCode is null)
        {
            return text + " (no error code given).";
        }

        var name = ErrorNames.TryGetValue(ErrorCode, out var known) ? $" ({known})" : "";
        return $"{text}, error {ErrorCode}{name}, https://www.twilio.com/docs/errors/{Uri.EscapeDataString(ErrorCode)}";
    }
}

/// <summary>The outcome of <see cref="TwilioChannel.HandleStatusCallback"/>.</summary>
/// <param name="Result">Accepted (no message), or the rejection.</param>
/// <param name="Status">The status update when the request was valid.</param>
public sealed record TwilioStatusCallbackResult(InboundResult Result, TwilioMessageStatus? Status);

/// <summary>
/// One Twilio number: signed SMS webhooks in (answered with empty TwiML), <c>Messages.json</c> out, and delivery
/// status callbacks. Create one per configured number with an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.
/// </summary>
public sealed class TwilioChannel : IChannelSender, IInboundAttachmentSource
{
    /// <summary>The answer to an inbound SMS webhook: empty TwiML, so Twilio sends nothing back by itself.</summary>
    public const string EmptyTwiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

    /// <summary>The content type of <see cref="EmptyTwiml"/>.</summary>
    public const string TwimlContentType = "text/xml";

    /// <summary>The query parameter of the <c>StatusCallback</c> URL that names the outbox message (the message's
    /// <see cref="OutgoingMessage.IdempotencyKey"/>), so a status report finds its message even before the SID is stored.</summary>
    public const string OutboxQueryParameter = "outbox";

    /// <summary>The relative path of a channel's status callback endpoint.</summary>
    public static string StatusCallbackPath(string channelName) => $"/channels/{Uri.EscapeDataString(channelName)}/twilio/status";

    /// <summary>The <c>StatusCallback</c> of one message: <paramref name="callback"/> with <c>outbox=&lt;key&gt;</c> added when
    /// <paramref name="idempotencyKey"/> is set. Twilio signs status callbacks over this exact URL.</summary>
    public static string StatusCallbackFor(Uri callback, string? idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var url = callback.ToString();
        return string.IsNullOrEmpty(idempotencyKey)
            ? url
            : $"{url}{(callback.Query.Length > 1 ? "&" : url.EndsWith('?') ? "" : "?")}{OutboxQueryParameter}={Uri.EscapeDataString(idempotencyKey)}";
    }

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the channel.</summary>
    public TwilioChannel(string channelName, TwilioOptions options, HttpClient http, TimeProvider? time = null,
        ILogger<TwilioChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.AccountSid);
        ArgumentException.ThrowIfNullOrEmpty(options.AuthToken);
        ChannelName = channelName;
        Options = options;
        _http = http;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<TwilioChannel>.Instance;
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Sms;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public TwilioOptions Options { get; }

    /// <summary>True for MMS media on Twilio's API host (<c>api.twilio.com</c>, a regional <c>*.twilio.com</c> host, or the host
    /// of <see cref="TwilioOptions.ApiBaseUrl"/>): the Auth Token is sent to no other host.</summary>
    public bool CanOpen(MessageAttachment attachment) =>
        Uri.TryCreate(attachment?.SourceUri, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
        && (uri.Host.Equals("api.twilio.com", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".twilio.com", StringComparison.OrdinalIgnoreCase)
            || uri.Authority.Equals(Options.ApiBaseUrl.Authority, StringComparison.OrdinalIgnoreCase));

    /// <summary>Downloads MMS media: <c>GET MediaUrlN</c> with HTTP basic auth (Account SID and Auth Token), which works
    /// whether or not the account enforces authentication for media; Twilio redirects to its media host, and the
    /// credentials are not sent there.</summary>
    public Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!CanOpen(attachment)) throw new AttachmentDownloadException($"'{attachment.SourceUri}' is not a Twilio media URL.", false);
        var request = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Get, attachment.SourceUri);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Options.AccountSid}:{Options.AuthToken}")));
        return AttachmentDownload.SendAsync(_http, request, "Twilio", attachment.Name, policy, cancellationToken);
    }

    private static string MediaExtension(string? contentType) => contentType?.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "image/jpeg" => ".jpg", "image/png" => ".png", "image/gif" => ".gif", "image/webp" => ".webp", "video/mp4" => ".mp4",
        "audio/mpeg" => ".mp3", "audio/ogg" => ".ogg", "application/pdf" => ".pdf", "text/vcard" or "text/x-vcard" => ".vcf", _ => "",
    };

    /// <summary>
    /// Verifies <c>X-Twilio-Signature</c> and parses an inbound SMS/MMS webhook. <paramref name="publicUrl"/> is the
    /// URL configured at Twilio (as Twilio called it, behind any proxy); <paramref name="formBody"/> is the raw
    /// <c>application/x-www-form-urlencoded</c> body. Accepted results carry <see cref="EmptyTwiml"/> as the answer.
    /// </summary>
    public InboundResult HandleIncomingMessage(string publicUrl, string formBody, string? signature)
    {
        var fields = FormUrlEncoded.Parse(formBody);
        if (Verify(publicUrl, fields, signature) is { } rejection)
        {
            return Log(rejection);
        }

        var sid = fields.Get("MessageSid") ?? fields.Get("SmsMessageSid") ?? fields.Get("SmsSid");
        var from = fields.Get("From");
        if (sid is null || string.IsNullOrEmpty(from))
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The Twilio webhook lacks MessageSid or From."));
        }

        var attachments = new List<MessageAttachment>();
        var media = int.TryParse(fields.Get("NumMedia"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        for (var i = 0; i < media; i++)
        {
            if (fields.Get($"MediaUrl{i}") is { } url)
            {
                attachments.Add(new MessageAttachment
                {
                    Name = $"{sid}-{i}{MediaExtension(fields.Get($"MediaContentType{i}"))}",
                    ContentType = fields.Get($"MediaContentType{i}") ?? "application/octet-stream",
                    SourceUri = url,
                });
            }
        }

        var metadata = new Dictionary<string, string>();
        foreach (var key in new[] { "To", "AccountSid", "MessagingServiceSid", "NumSegments", "FromCountry", "FromCity" })
        {
            if (fields.Get(key) is { Length: > 0 } value)
            {
                metadata["twilio." + key] = value;
            }
        }

        return Log(InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Sms,
            ChannelName = ChannelName,
            ChannelMessageId = sid,
            Conversation = new ConversationId(ChannelKind.Sms, ChannelName, from),
            Sender = new ChannelUser(from),
            Text = fields.Get("Body") ?? "",
            Attachments = attachments,
            ReceivedAt = _time.GetUtcNow(),
            RawPayload = formBody,
            Metadata = metadata,
        }, EmptyTwiml, TwimlContentType));
    }

    /// <summary>Verifies and parses a <c>StatusCallback</c> request (<c>MessageSid</c>, <c>MessageStatus</c>,
    /// <c>ErrorCode</c>). Answer 200 with an empty body.</summary>
    public TwilioStatusCallbackResult HandleStatusCallback(string publicUrl, string formBody, string? signature)
    {
        var fields = FormUrlEncoded.Parse(formBody);
        if (Verify(publicUrl, fields, signature) is { } rejection)
        {
            return new(Log(rejection), null);
        }

        var sid = fields.Get("MessageSid") ?? fields.Get("SmsSid");
        var status = fields.Get("MessageStatus") ?? fields.Get("SmsStatus");
        if (sid is null || status is null)
        {
            return new(Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The Twilio status callback lacks MessageSid or MessageStatus.")), null);
        }

        return new(InboundResult.Ignore("status callback"), new TwilioMessageStatus
        {
            MessageSid = sid,
            Status = status,
            ErrorCode = fields.Get("ErrorCode") is { Length: > 0 } code ? code : null,
            To = fields.Get("To"),
            From = fields.Get("From"),
        });
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        if (Options.FromNumber is null && Options.MessagingServiceSid is null)
        {
            return SendResult.Permanent($"Twilio channel '{ChannelName}' has neither FromNumber nor MessagingServiceSid.", "no_sender");
        }

        if (message.Attachments.FirstOrDefault(a => !Uri.TryCreate(a.SourceUri, UriKind.Absolute, out var u) || u.Scheme != "https" && u.Scheme != "http") is { } local)
        {
            return SendResult.Permanent($"Attachment '{local.Name}' has no public URL; Twilio fetches MMS media by URL (MediaUrl).",
                "attachment_needs_url");
        }

        var text = MessageRenderer.Render(message.Text, TextFormat.PlainText);
        if (message.QuickReplies.Count > 0)
        {
            var options = message.QuickReplies.Select(r => r.Label == r.Value ? $"• {r.Value}" : $"• {r.Label}: reply {r.Value}");
            text = (text.Length > 0 ? text + "\n\n" : "") + string.Join('\n', options);
        }

        var parts = TextSplitter.SplitPlainText(text, Options.MaxMessageLength).ToList();
        if (parts.Count == 0 && message.Attachments.Count == 0)
        {
            return SendResult.Permanent("The message has neither text nor attachments.", "no_text");
        }

        if (parts.Count == 0)
        {
            parts.Add("");
        }

        var result = await PartSender.SendAsync(parts.Count, message.SkipParts, (index, ct) => CreateMessageAsync(recipient, parts[index],
            index == 0 ? [.. message.Attachments.Select(a => a.SourceUri!)] : [],
            Options.StatusCallbackUrl is { } callback ? StatusCallbackFor(callback, message.IdempotencyKey) : null, ct), cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Twilio channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    private async Task<(string? MessageId, SendResult? Failure)> CreateMessageAsync(string recipient, string body,
        IReadOnlyList<string> mediaUrls, string? statusCallback, CancellationToken cancellationToken)
    {
        var options = new CreateMessageOptions(new PhoneNumber(recipient));
        if (Options.MessagingServiceSid is { } service)
        {
            options.MessagingServiceSid = service;
        }
        else
        {
            options.From = new PhoneNumber(Options.FromNumber);
        }

        if (body.Length > 0)
        {
            options.Body = body;
        }

        if (mediaUrls.Count > 0)
        {
            options.MediaUrl = [.. mediaUrls.Select(u => new Uri(u, UriKind.Absolute))];
        }

        if (statusCallback is not null)
        {
            // The SDK sends Uri.OriginalString, so the escaping of the callback URL (which Twilio signs) is kept as built.
            options.StatusCallback = new Uri(statusCallback, UriKind.Absolute);
        }

        // One TwilioRestClient per call over the SDK's SystemNetHttpClient; its System.Net.Http.HttpClient forwards to
        // our pooled HttpClient through TwilioHttpHandler, which applies the timeout and the cancellation token (the SDK
        // takes none), rebases api.twilio.com onto Options.ApiBaseUrl (a loopback fake in tests) and keeps the status
        // and Retry-After of the answer.
        using var handler = new TwilioHttpHandler(_http, Options.ApiBaseUrl, Options.RequestTimeout, _time, cancellationToken);
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        var client = new TwilioRestClient(Options.AccountSid, Options.AuthToken, Options.AccountSid, Options.Region,
            new SystemNetHttpClient(http), Options.Edge);
        try
        {
            var created = await MessageResource.CreateAsync(options, client);
            return created?.Sid is { Length: > 0 } sid
                ? (sid, null)
                : (null, ChannelHttp.Failure(500, "Twilio answered without a message sid.", handler.LastStatus?.ToString(CultureInfo.InvariantCulture), null));
        }
        catch (ApiException exception)
        {
            var status = exception.Status is >= 400 ? exception.Status : handler.LastStatus is int last and >= 400 ? last : 500;
            var code = exception.Code != 0 ? exception.Code.ToString(CultureInfo.InvariantCulture) : null;
            var moreInfo = string.IsNullOrEmpty(exception.MoreInfo) ? "" : $" ({exception.MoreInfo})";
            return (null, ChannelHttp.Failure(status, $"Twilio: {Truncate(exception.Message)}{(code is null ? "" : $" [code {code}]")}{moreInfo}",
                code ?? status.ToString(CultureInfo.InvariantCulture), handler.RetryAfter));
        }
        catch (ApiConnectionException exception)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = $"POST {ChannelHttp.Describe(handler.LastUri)}";
            return (null, handler.TimedOut
                ? new SendResult
                {
                    Status = SendStatus.RetryableFailure,
                    Error = $"Twilio did not answer within {Options.RequestTimeout.TotalSeconds:0.#} s ({target}).",
                    ErrorCode = "timeout",
                }
                : new SendResult
                {
                    Status = SendStatus.RetryableFailure,
                    Error = $"Twilio could not be reached ({target}): {(exception.InnerException ?? exception).Message}",
                    ErrorCode = "network",
                });
        }
    }

    private InboundResult? Verify(string publicUrl, IReadOnlyList<KeyValuePair<string, string>> fields, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, $"The {TwilioSignature.Header} header is missing.");
        }

        return TwilioSignature.IsValid(Options.AuthToken, signature, publicUrl, fields)
            ? null
            : InboundResult.Reject(RejectionReason.InvalidSignature,
                $"{TwilioSignature.Header} does not match (wrong auth token, modified parameters, or a URL other than the one configured at Twilio: {publicUrl}).");
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Twilio channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
