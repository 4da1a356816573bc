using Xunit;

namespace Platform.Testing;

/// <summary>
/// A real mail stack on 127.0.0.1 for tests: Dovecot IMAP with an aiosmtpd SMTP front delivering into it over LMTP. Any
/// user name logs in with <see cref="Password"/> and mail to name@anything lands in name's INBOX, so each test makes its
/// own users. Uses <c>SMTP_PORT</c> and <c>IMAP_PORT</c> when both are set (CI starts the stack up front), else starts a
/// private stack on first use with <c>tests/services/start-mail.sh</c> (root; installs dovecot-imapd, dovecot-lmtpd and
/// python3-aiosmtpd when missing), shared by the whole test process and stopped at its end. Register it as an assembly
/// fixture so it is stopped as soon as the assembly's tests are done.
/// </summary>
public sealed class MailFixture : IAsyncLifetime
{
    /// <summary>The environment variable with the SMTP port of a running stack.</summary>
    public const string SmtpVariable = "SMTP_PORT";

    /// <summary>The environment variable with the IMAP port of a running stack.</summary>
    public const string ImapVariable = "IMAP_PORT";

    /// <summary>The password of every mailbox.</summary>
    public const string Password = "secret";

    private static readonly ScriptedService Service = new("mail", "start-mail.sh", "stop-mail.sh");

    /// <summary>The SMTP port on 127.0.0.1 (no TLS, any AUTH accepted).</summary>
    public static int SmtpPort => External() is { } ports ? ports.Smtp : Service.Port("SMTP_PORT");

    /// <summary>The IMAP port on 127.0.0.1 (no TLS).</summary>
    public static int ImapPort => External() is { } ports ? ports.Imap : Service.Port("IMAP_PORT");

    /// <inheritdoc />
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Stops the private mail stack, if one was started.</summary>
    public ValueTask DisposeAsync()
    {
        Service.Stop();
        return ValueTask.CompletedTask;
    }

    private static (int Smtp, int Imap)? External()
    {
        var smtp = ServiceScripts.PortFromEnvironment(SmtpVariable);
        var imap = ServiceScripts.PortFromEnvironment(ImapVariable);
        return (smtp, imap) switch
        {
            ({ } s, { } i) => (s, i),
            (null, null) => null,
            _ => throw new InvalidOperationException(
                $"Only one of {SmtpVariable} and {ImapVariable} is set: set both (a running mail stack) or neither (the tests start one)."),
        };
    }
}
