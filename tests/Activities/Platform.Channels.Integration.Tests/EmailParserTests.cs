using MimeKit;
using Platform.Messaging.Email;

namespace Platform.Channels.Integration.Tests;

public sealed class EmailParserTests
{
    private static readonly MailboxPosition Position = new("INBOX", 7, 42);

    [Theory]
    [InlineData("Re: Opening hours", "Opening hours")]
    [InlineData("RE: Fwd: re:  Opening   hours ", "Opening hours")]
    [InlineData("AW: WG: Öffnungszeiten", "Öffnungszeiten")]
    [InlineData("Re[2]: Opening hours", "Opening hours")]
    [InlineData("Re: ", null)]
    [InlineData("Regarding the invoice", "Regarding the invoice")]
    public void Should_StripReplyPrefixes_When_NormalizingSubject(string subject, string? expected)
    {
        // Arrange
        // Act
        var normalized = EmailParser.NormalizeSubject(subject);

        // Assert
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public void Should_KeepOnlyTheNewText_When_TheMailQuotesEarlierMail()
    {
        // Arrange
        var text = "Yes, tomorrow works.\r\nSee you!\r\n\r\nOn Mon, 23 Nov 2026 at 10:00, Assistant <bot@test.local> wrote:\r\n> When would you like to come?\r\n> \r\n-- \r\nJane";

        // Act
        var stripped = EmailParser.StripQuotedText(text);

        // Assert
        Assert.Equal("Yes, tomorrow works.\nSee you!", stripped);
    }

    [Fact]
    public void Should_StopAtTheOriginalMessage_When_AnOutlookStyleReplyArrives()
    {
        // Arrange
        var text = "Thanks!\n\n-----Original Message-----\nFrom: Assistant\nSent: Monday\n\nWhen would you like to come?";

        // Act
        var stripped = EmailParser.StripQuotedText(text);

        // Assert
        Assert.Equal("Thanks!", stripped);
    }

    [Fact]
    public void Should_MapHeadersToTheConversation_When_ParsingAReply()
    {
        // Arrange
        var mail = new MimeMessage();
        mail.From.Add(new MailboxAddress("Jane Doe", "Jane@Example.com"));
        mail.To.Add(MailboxAddress.Parse("bot@test.local"));
        mail.Subject = "Re: Booking";
        mail.MessageId = "reply-1@example.com";
        mail.InReplyTo = "bot-1@test.local";
        mail.References.Add("root@example.com");
        mail.References.Add("bot-1@test.local");
        mail.Body = new TextPart("plain") { Text = "Tomorrow\n\n> earlier text" };

        // Act
        var incoming = EmailParser.Parse("mail", mail, Position, AttachmentPolicy.Default, DateTimeOffset.UnixEpoch)!;

        // Assert
        Assert.Equal("reply-1@example.com", incoming.ChannelMessageId);
        Assert.Equal("email:mail:jane%40example.com:Booking", incoming.Conversation.ToString());
        Assert.Equal(new ChannelUser("jane@example.com", "Jane Doe"), incoming.Sender);
        Assert.Equal("Tomorrow", incoming.Text);
        Assert.Equal("bot-1@test.local", incoming.ReplyToChannelMessageId);
        Assert.Equal("<root@example.com> <bot-1@test.local>", incoming.Metadata["email.references"]);
        Assert.Equal("email:mail:reply-1@example.com", incoming.DeduplicationKey);
    }

    [Fact]
    public void Should_RecordAttachmentsAndDropOversizedOnes_When_TheMailHasFiles()
    {
        // Arrange
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("jane@example.com"));
        mail.Subject = "Files";
        var body = new BodyBuilder { TextBody = "See attached." };
        body.Attachments.Add("small.txt", new byte[100], new ContentType("text", "plain"));
        body.Attachments.Add("big.bin", new byte[5000], new ContentType("application", "octet-stream"));
        mail.Body = body.ToMessageBody();

        // Act
        var incoming = EmailParser.Parse("mail", mail, Position, new AttachmentPolicy { MaxBytes = 1000 }, DateTimeOffset.UnixEpoch)!;

        // Assert
        var attachment = Assert.Single(incoming.Attachments);
        Assert.Equal(("small.txt", "text/plain", 100L), (attachment.Name, attachment.ContentType, attachment.Size));
        Assert.Contains("big.bin (5000 bytes)", incoming.Metadata["email.droppedAttachments"], StringComparison.Ordinal);
    }

    [Fact]
    public void Should_UseTheMailboxPositionAsId_When_TheMailHasNoMessageId()
    {
        // Arrange
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("jane@example.com"));
        mail.Headers.Remove(HeaderId.MessageId);

        // Act
        var incoming = EmailParser.Parse("mail", mail, Position, AttachmentPolicy.Default, DateTimeOffset.UnixEpoch)!;

        // Assert
        Assert.Equal("imap:INBOX:7:42", incoming.ChannelMessageId);
    }

    [Fact]
    public void Should_UseTheHtmlPartAsText_When_ThereIsNoPlainTextPart()
    {
        // Arrange
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("jane@example.com"));
        mail.Body = new TextPart("html") { Text = "<html><head><style>p{}</style></head><body><p>Hello &amp; welcome</p><blockquote>old</blockquote></body></html>" };

        // Act
        var incoming = EmailParser.Parse("mail", mail, Position, AttachmentPolicy.Default, DateTimeOffset.UnixEpoch)!;

        // Assert
        Assert.Equal("Hello & welcome", incoming.Text);
        Assert.Null(incoming.Conversation.ThreadId);
    }

    [Fact]
    public void Should_FlagAutoReplies_When_TheMailIsAutomated()
    {
        // Arrange
        var auto = new MimeMessage();
        auto.From.Add(MailboxAddress.Parse("jane@example.com"));
        auto.Headers.Add(HeaderId.AutoSubmitted, "auto-replied");
        var human = new MimeMessage();
        human.From.Add(MailboxAddress.Parse("jane@example.com"));

        // Act
        // Assert
        Assert.True(EmailParser.IsAutomated(auto));
        Assert.False(EmailParser.IsAutomated(human));
    }
}
