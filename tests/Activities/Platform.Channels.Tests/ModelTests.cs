using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Security;

namespace Platform.Channels.Tests;

public sealed class ModelTests
{
    [Theory]
    [InlineData(ChannelKind.Slack, "acme", "C024BE91L", "1712345678.000100", "slack:acme:C024BE91L:1712345678.000100")]
    [InlineData(ChannelKind.Sms, "sms:us", "+14158675310", null, "sms:sms%3Aus:%2B14158675310")]
    [InlineData(ChannelKind.Telegram, "support", "-1001234", null, "telegram:support:-1001234")]
    public void Should_RoundTrip_When_FormattingConversationIds(ChannelKind kind, string channel, string chat, string? thread, string expected)
    {
        var id = new ConversationId(kind, channel, chat, thread);

        Assert.Equal(expected, id.ToString());
        Assert.Equal(id, ConversationId.Parse(expected));
    }

    [Theory]
    [InlineData("")]
    [InlineData("slack:acme")]
    [InlineData("fax:acme:1")]
    [InlineData("3:acme:1")]
    public void Should_RefuseToParse_When_TextIsNotAConversationId(string text)
    {
        Assert.False(ConversationId.TryParse(text, out _));
    }

    [Fact]
    public void Should_RejectClearly_When_AttachmentExceedsDefault50Mb()
    {
        var policy = AttachmentPolicy.Default;

        policy.EnsureAllowed("ok.bin", 50L * 1024 * 1024);
        var exception = Assert.Throws<AttachmentTooLargeException>(() => policy.EnsureAllowed("big.bin", 50L * 1024 * 1024 + 1));

        Assert.Equal(("big.bin", 50L * 1024 * 1024 + 1, 52428800L), (exception.AttachmentName, exception.Size, exception.MaxBytes));
        Assert.Contains("limit is 52,428,800 bytes (50 MB)", exception.Message);
    }

    [Fact]
    public void Should_ResolveFactoryAndProtector_When_RegisteredWithKey()
    {
        var services = new ServiceCollection().AddPlatformChannels();
        services.Configure<SecretProtectionOptions>(o => o.Key = SecretProtector.GenerateKey());
        using var provider = services.BuildServiceProvider();

        var factory = provider.GetRequiredService<ChannelAdapterFactory>();
        var telegram = factory.CreateTelegram("support", new Telegram.TelegramOptions { BotToken = "1:x" });
        var protector = provider.GetRequiredService<SecretProtector>();

        Assert.Equal(("support", ChannelKind.Telegram), (telegram.ChannelName, telegram.Kind));
        Assert.Equal("s", protector.Unprotect(protector.Protect("s")));
    }

    [Fact]
    public void Should_FailWithHowTo_When_ProtectorResolvedWithoutKey()
    {
        using var provider = new ServiceCollection().AddPlatformChannels().BuildServiceProvider();

        var exception = Assert.Throws<SecretKeyException>(() => provider.GetRequiredService<SecretProtector>());

        Assert.Contains("openssl rand -base64 32", exception.Message);
    }
}
