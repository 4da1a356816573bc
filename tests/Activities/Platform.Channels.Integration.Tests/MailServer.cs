using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Platform.Testing;

namespace Platform.Channels.Integration.Tests;

/// <summary>
/// The real mail stack the tests run against: aiosmtpd delivering into Dovecot (<see cref="MailFixture"/>: SMTP_PORT/IMAP_PORT,
/// else started from tests/services/start-mail.sh). Every user name logs in with the password "secret" and mail to name@anything
/// lands in name's INBOX, so each test makes its own users.
/// </summary>
public static class MailServer
{
    public const string Password = MailFixture.Password;

    public static int SmtpPort => MailFixture.SmtpPort;

    public static int ImapPort => MailFixture.ImapPort;

    /// <summary>A fresh mailbox user (its address is name@test.local).</summary>
    public static string NewUser(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 12)];

    public static string Address(string user) => $"{user}@test.local";

    /// <summary>Settings of an Email channel whose mailbox is <paramref name="user"/>.</summary>
    public static Dictionary<string, string?> ChannelSettings(string user) => new()
    {
        ["imapHost"] = "127.0.0.1", ["imapPort"] = ImapPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["smtpHost"] = "127.0.0.1", ["smtpPort"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["username"] = user, ["password"] = Password, ["from"] = $"Assistant <{Address(user)}>", ["useTls"] = "none",
    };

    /// <summary>Sends a mail through the SMTP server.</summary>
    public static async Task<MimeMessage> SendAsync(string fromUser, string toUser, string subject, string text, Action<MimeMessage>? configure = null)
    {
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress($"User {fromUser}", Address(fromUser)));
        mail.To.Add(MailboxAddress.Parse(Address(toUser)));
        mail.Subject = subject;
        mail.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("client.test");
        mail.Body = new TextPart("plain") { Text = text };
        configure?.Invoke(mail);
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", SmtpPort, SecureSocketOptions.None);
        await smtp.SendAsync(mail);
        await smtp.DisconnectAsync(true);
        return mail;
    }

    /// <summary>The mails in <paramref name="user"/>'s INBOX.</summary>
    public static async Task<IReadOnlyList<MimeMessage>> ReadInboxAsync(string user)
    {
        using var imap = new ImapClient();
        await imap.ConnectAsync("127.0.0.1", ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, Password);
        await imap.Inbox.OpenAsync(FolderAccess.ReadOnly);
        var mails = new List<MimeMessage>();
        for (var i = 0; i < imap.Inbox.Count; i++) mails.Add(await imap.Inbox.GetMessageAsync(i));
        await imap.DisconnectAsync(true);
        return mails;
    }

    /// <summary>Waits until <paramref name="user"/>'s INBOX holds at least <paramref name="count"/> mails (30 s at most).</summary>
    public static async Task<IReadOnlyList<MimeMessage>> WaitForInboxAsync(string user, int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var mails = await ReadInboxAsync(user);
            if (mails.Count >= count) return mails;
            if (DateTime.UtcNow > until) throw new TimeoutException($"{user}'s INBOX holds {mails.Count} mail(s), expected {count}.");
            await Task.Delay(200);
        }
    }
}
