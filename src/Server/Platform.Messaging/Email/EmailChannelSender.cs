using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using Platform.Channels;
using Platform.Channels.Rendering;

namespace Platform.Messaging.Email;

/// <summary>
/// Sends mail over SMTP (MailKit): the Markdown text as HTML with a plain-text alternative, the subject from the message (or
/// <c>Re: &lt;subject&gt;</c> of the conversation's thread), and In-Reply-To/References when it answers a mail. The Message-ID is
/// derived from the outbox message id, so a retried delivery carries the same Message-ID. SMTP 4xx replies and network errors are
/// retryable; 5xx replies, refused logins and invalid addresses are permanent.
/// </summary>
public sealed class EmailChannelSender : IChannelSender
{
    private readonly EmailSettings _settings;
    private readonly EmailThreadIndex _threads;
    private readonly ILogger _logger;

    /// <summary>Creates the sender.</summary>
    /// <exception cref="ChannelConfigurationException">The channel has no <c>smtpHost</c> or no <c>from</c> address.</exception>
    public EmailChannelSender(EmailSettings settings, EmailThreadIndex threads, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.SmtpHost is null)
            throw new ChannelConfigurationException($"Channel '{settings.ChannelName}' (Email) cannot send: set 'smtpHost' (and smtpPort, useTls).");
        if (settings.From is null)
            throw new ChannelConfigurationException($"Channel '{settings.ChannelName}' (Email) cannot send: set 'from' to the sender address (or use an e-mail address as 'username').");
        _settings = settings;
        _threads = threads;
        _logger = logger;
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Email;

    /// <inheritdoc />
    public string ChannelName => _settings.ChannelName;

    /// <summary>Builds the mail without sending it.</summary>
    /// <exception cref="ArgumentException">The recipient is not an e-mail address.</exception>
    public MimeMessage Build(string recipient, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrWhiteSpace(recipient) || !MailboxAddress.TryParse(recipient.Trim(), out var to) || !to.Address.Contains('@', StringComparison.Ordinal))
            throw new ArgumentException($"'{recipient}' is not an e-mail address. Send to an address such as 'someone@example.com'.", nameof(recipient));
        var mail = new MimeMessage();
        mail.From.Add(_settings.From!);
        mail.To.Add(to);
        mail.Subject = Subject(message);
        mail.Date = DateTimeOffset.UtcNow;
        var domain = _settings.From!.Domain is { Length: > 0 } d ? d : "platform.local";
        mail.MessageId = $"{(message.IdempotencyKey is { Length: > 0 } key ? key : Guid.NewGuid().ToString("N"))}.{_settings.ChannelName}@{domain}";
        if (message.ReplyToChannelMessageId is { Length: > 0 } answered && !answered.StartsWith("imap:", StringComparison.Ordinal))
        {
            mail.InReplyTo = answered;
            foreach (var reference in _threads.ReplyReferences(answered)) mail.References.Add(reference);
        }
        mail.Headers.Add(HeaderId.AutoSubmitted, "auto-replied");

        var markdown = message.Text ?? "";
        if (message.QuickReplies.Count > 0)
            markdown += "\n\nReply with one of:\n\n" + string.Join('\n', message.QuickReplies.Select((q, i) => $"{i + 1}. {q.Label}"));
        var body = new BodyBuilder
        {
            TextBody = MessageRenderer.Render(markdown, TextFormat.PlainText),
            HtmlBody = $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{MessageRenderer.Render(markdown, TextFormat.Html)}\n</body></html>",
        };
        foreach (var attachment in message.Attachments)
        {
            if (attachment.Content is not { } content) continue;
            body.Attachments.Add(attachment.Name, content.ToArray(), ContentType.TryParse(attachment.ContentType, out var type) ? type : new ContentType("application", "octet-stream"));
        }
        mail.Body = body.ToMessageBody();
        return mail;
    }

    private string Subject(OutgoingMessage message)
    {
        if (!string.IsNullOrWhiteSpace(message.Subject)) return message.Subject.Trim();
        if (!string.IsNullOrWhiteSpace(message.ThreadId)) return "Re: " + message.ThreadId;
        var firstLine = MessageRenderer.Render(message.Text ?? "", TextFormat.PlainText).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        return firstLine.Length switch
        {
            0 => $"Message from {_settings.From!.Name ?? _settings.ChannelName}",
            > 78 => firstLine[..75] + "...",
            _ => firstLine,
        };
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.SkipParts > 0) return new SendResult { Status = SendStatus.Sent, PartsDelivered = 1, TotalParts = 1 };
        MimeMessage mail;
        try
        {
            mail = Build(recipient, message);
        }
        catch (ArgumentException e)
        {
            return SendResult.Permanent(e.Message, "invalid_recipient");
        }

        using var smtp = new SmtpClient();
        try
        {
            smtp.Timeout = 30_000;
            await smtp.ConnectAsync(_settings.SmtpHost!, _settings.SmtpPort, _settings.Security, cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(_settings.Username) && smtp.Capabilities.HasFlag(SmtpCapabilities.Authentication))
                await smtp.AuthenticateAsync(_settings.Username, _settings.Password ?? "", cancellationToken).ConfigureAwait(false);
            await smtp.SendAsync(mail, cancellationToken).ConfigureAwait(false);
            await smtp.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
            return new SendResult { Status = SendStatus.Sent, ChannelMessageIds = [mail.MessageId ?? ""], PartsDelivered = 1, TotalParts = 1 };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            var what = e.ErrorCode switch
            {
                SmtpErrorCode.RecipientNotAccepted => $"The SMTP server refused the recipient {e.Mailbox?.Address ?? recipient}",
                SmtpErrorCode.SenderNotAccepted => $"The SMTP server refused the sender {e.Mailbox?.Address ?? _settings.From?.Address} (check 'from')",
                _ => "The SMTP server refused the message",
            };
            var error = $"{what}: {code} {e.Message}";
            return new SendResult
            {
                Status = code is >= 400 and < 500 ? SendStatus.RetryableFailure : SendStatus.PermanentFailure, Error = error, ErrorCode = code.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        catch (AuthenticationException e)
        {
            return SendResult.Permanent($"The SMTP server {_settings.SmtpHost}:{_settings.SmtpPort} refused the login of '{_settings.Username}': {e.Message} Check 'username' and 'password'.", "auth");
        }
        catch (SslHandshakeException e)
        {
            return SendResult.Permanent($"TLS with {_settings.SmtpHost}:{_settings.SmtpPort} failed: {e.Message} Check 'useTls' (none, starttls, ssl) and 'smtpPort'.", "tls");
        }
        catch (NotSupportedException e)
        {
            return SendResult.Permanent($"The SMTP server {_settings.SmtpHost}:{_settings.SmtpPort} does not support what 'useTls' asks for: {e.Message}", "tls");
        }
        catch (Exception e) when (e is SmtpProtocolException or SocketException or IOException or TimeoutException or OperationCanceledException
                                      or ServiceNotConnectedException or ProtocolException)
        {
            _logger.LogWarning("Sending mail on {Channel} through {Host}:{Port} failed: {Error}", _settings.ChannelName, _settings.SmtpHost, _settings.SmtpPort, e.Message);
            return new SendResult { Status = SendStatus.RetryableFailure, Error = $"Cannot reach the SMTP server {_settings.SmtpHost}:{_settings.SmtpPort}: {e.Message}" };
        }
    }
}

/// <summary>Builds <see cref="EmailChannelSender"/>s for <see cref="ChannelKind.Email"/> channels.</summary>
public sealed class EmailChannelProvider(EmailThreadIndex threads, ILoggerFactory loggers) : IChannelProvider
{
    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Email;

    /// <inheritdoc />
    public IChannelSender Create(ChannelConfig channel) =>
        new EmailChannelSender(EmailSettings.Read(channel), threads, loggers.CreateLogger<EmailChannelSender>());
}
