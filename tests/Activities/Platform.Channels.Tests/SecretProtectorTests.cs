using System.Security.Cryptography;
using Platform.Activities.Security;

namespace Platform.Channels.Tests;

public sealed class SecretProtectorTests
{
    [Fact]
    public void Should_RoundTrip_When_ProtectingAndUnprotecting()
    {
        var protector = new SecretProtector(SecretProtector.GenerateKey());

        var protectedValue = protector.Protect("xoxb-secret-tøken ✓", "channel:acme:BotToken");

        Assert.StartsWith("v1:", protectedValue, StringComparison.Ordinal);
        Assert.DoesNotContain("xoxb", protectedValue);
        Assert.Equal("xoxb-secret-tøken ✓", protector.Unprotect(protectedValue, "channel:acme:BotToken"));
        Assert.Equal(12 + 22 + 16, Convert.FromBase64String(protectedValue[3..]).Length);
    }

    [Fact]
    public void Should_ReadEachOther_When_KeyGivenAsBase64OrBytes()
    {
        var key = SecretProtector.GenerateKey();
        var fromText = new SecretProtector(key);
        var fromBytes = new SecretProtector(Convert.FromBase64String(key));

        Assert.Equal("token", fromBytes.Unprotect(fromText.Protect("token")));
        Assert.Throws<SecretKeyException>(() => new SecretProtector(new byte[31]));
    }

    [Fact]
    public void Should_UseFreshNonce_When_ProtectingTheSameValueTwice()
    {
        var protector = new SecretProtector(SecretProtector.GenerateKey());

        Assert.NotEqual(protector.Protect("same"), protector.Protect("same"));
    }

    [Fact]
    public void Should_DetectTampering_When_AnyByteChanges()
    {
        var protector = new SecretProtector(SecretProtector.GenerateKey());
        var bytes = Convert.FromBase64String(protector.Protect("secret")[3..]);

        for (var i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x01;
            Assert.Throws<SecretDecryptionException>(() => protector.Unprotect("v1:" + Convert.ToBase64String(copy)));
        }
    }

    [Fact]
    public void Should_Refuse_When_KeyOrAssociatedDataDiffers()
    {
        var protectedValue = new SecretProtector(SecretProtector.GenerateKey()).Protect("secret", "a");
        var other = new SecretProtector(SecretProtector.GenerateKey());

        var wrongKey = Assert.Throws<SecretDecryptionException>(() => other.Unprotect(protectedValue, "a"));

        Assert.Contains("different Platform:Secrets:Key", wrongKey.Message);
        Assert.IsType<CryptographicException>(wrongKey, exactMatch: false);
    }

    [Fact]
    public void Should_Refuse_When_ValueIsMovedToAnotherField()
    {
        var protector = new SecretProtector(SecretProtector.GenerateKey());

        Assert.Throws<SecretDecryptionException>(() => protector.Unprotect(protector.Protect("secret", "channel:a:BotToken"), "channel:b:BotToken"));
        Assert.Throws<SecretDecryptionException>(() => protector.Unprotect("plain-text-token"));
        Assert.Throws<SecretDecryptionException>(() => protector.Unprotect("v1:AAAA"));
    }

    [Theory]
    [InlineData(null, "No secret encryption key")]
    [InlineData("", "No secret encryption key")]
    [InlineData("not base64 !!", "not valid base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "is 16 bytes")]
    public void Should_ExplainHowToGenerateAKey_When_KeyIsMissingOrMalformed(string? key, string fragment)
    {
        var exception = Assert.Throws<SecretKeyException>(() => new SecretProtector(key));

        Assert.Contains(fragment, exception.Message);
        Assert.Contains("openssl rand -base64 32", exception.Message);
    }
}
