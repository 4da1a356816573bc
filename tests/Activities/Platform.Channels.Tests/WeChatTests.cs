using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Platform.Channels.Feishu;
using Platform.Channels.WeChat;
using Platform.Channels.Webhooks;

namespace Platform.Channels.Tests;

/// <summary>The WeChat, WeCom and Feishu adapters against their loopback fakes (independent implementations of the crypto).</summary>
public sealed class WeChatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WeChatChannel Channel(FakeWeChatServer fake) => new("wx", new WeChatOptions
    {
        Kind = fake.IsWeCom ? ChannelKind.WeCom : ChannelKind.WeChat, AppId = fake.AppId, Secret = fake.Secret, Token = fake.Token,
        EncodingAesKey = fake.EncodingAesKey, AgentId = fake.IsWeCom ? fake.AgentId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
        ApiBaseUrl = fake.BaseUrl,
    }, Http.Client(), new InMemoryReplayCache());

    private static FeishuChannel Channel(FakeFeishuServer fake) => new("fs", new FeishuOptions
    {
        AppId = fake.AppId, AppSecret = fake.AppSecret, EncryptKey = fake.EncryptKey, VerificationToken = fake.VerificationToken, ApiBaseUrl = fake.BaseUrl,
    }, Http.Client(), new InMemoryReplayCache());

    [Fact]
    public async Task Should_Decrypt_Each_Others_Messages_When_The_Adapter_And_WeChat_Share_The_EncodingAesKey()
    {
        // Arrange
        await using var fake = await FakeWeChatServer.StartOfficialAccountAsync();
        const string message = "<xml><Content><![CDATA[今天有多少订单?]]></Content></xml>";

        // Act
        var (decrypted, receiveId) = WeChatCrypto.Decrypt(fake.EncodingAesKey, fake.Encrypt(message));
        var back = fake.Decrypt(WeChatCrypto.Encrypt(fake.EncodingAesKey, fake.AppId, message));

        // Assert
        Assert.Equal(message, decrypted);
        Assert.Equal(fake.AppId, receiveId);
        Assert.Equal(message, back);
        Assert.Equal(FakeWeChatServer.Sign("b", "a", "c"), WeChatCrypto.Signature("c", "a", "b"));
    }

    [Fact]
    public void Should_Throw_When_The_Ciphertext_Was_Made_With_Another_Key()
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=');
        var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=');
        var cipher = WeChatCrypto.Encrypt(key, "wx1", "hello");

        Assert.ThrowsAny<Exception>(() => WeChatCrypto.Decrypt(other, cipher));
        Assert.Throws<FormatException>(() => WeChatCrypto.Key("short"));
    }

    [Fact]
    public async Task Should_Send_Quick_Replies_As_A_Menu_When_An_Official_Account_Answers_Through_The_Api()
    {
        // Arrange
        await using var fake = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = Channel(fake);

        // Act
        var result = await channel.SendAsync("oUser1", new OutgoingMessage { Text = "**满意**吗?", QuickReplies = [new("满意", "yes"), new("不满意", "no")] }, Ct);

        // Assert: plain text (no Markdown), the entries as msgmenu.
        Assert.True(result.IsSuccess, result.ToString());
        var sent = Assert.Single(fake.SentMessages);
        Assert.Equal("msgmenu", sent.MsgType);
        Assert.Equal("满意吗?", sent.Content);
        Assert.Equal("不满意", sent.Body["msgmenu"]!["list"]![1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Report_A_Retryable_Failure_When_WeChat_Is_Busy()
    {
        // Arrange
        await using var fake = await FakeWeChatServer.StartWeComAsync();
        var channel = Channel(fake);
        fake.RespondBusy(1);

        // Act
        var busy = await channel.SendAsync("ZhangSan", new OutgoingMessage { Text = "你好" }, Ct);
        var next = await channel.SendAsync("ZhangSan", new OutgoingMessage { Text = "你好" }, Ct);

        // Assert
        Assert.Equal(SendStatus.RetryableFailure, busy.Status);
        Assert.Equal("-1", busy.ErrorCode);
        Assert.True(next.IsSuccess, next.ToString());
        Assert.Equal(1, fake.TokensIssued);
    }

    [Fact]
    public async Task Should_Fail_Permanently_With_A_Hint_When_The_AppSecret_Is_Wrong()
    {
        // Arrange
        await using var fake = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = new WeChatChannel("wx", new WeChatOptions { AppId = fake.AppId, Secret = "wrong", Token = fake.Token, ApiBaseUrl = fake.BaseUrl },
            Http.Client(), new InMemoryReplayCache());

        // Act
        var result = await channel.SendAsync("oUser", new OutgoingMessage { Text = "hi" }, Ct);

        // Assert
        Assert.Equal(SendStatus.PermanentFailure, result.Status);
        Assert.Contains("40125", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Send_An_Interactive_Card_With_Buttons_When_A_Feishu_Answer_Has_Quick_Replies()
    {
        // Arrange
        await using var fake = await FakeFeishuServer.StartAsync();
        var channel = Channel(fake);

        // Act
        var plain = await channel.SendAsync("oc_chat1", new OutgoingMessage { Text = "**库存不足**: 智能插座" }, Ct);
        var card = await channel.SendAsync("oc_chat1", new OutgoingMessage { Text = "要开灯吗?", QuickReplies = [new("开", "打开厨房的灯"), new("不用", "不用了")] }, Ct);

        // Assert
        Assert.True(plain.IsSuccess && card.IsSuccess, $"{plain} {card}");
        Assert.Equal("post", fake.SentMessages[0].MsgType);
        Assert.Equal("**库存不足**: 智能插座", fake.SentMessages[0].Text);
        Assert.Equal("interactive", fake.SentMessages[1].MsgType);
        Assert.Equal([("开", "打开厨房的灯"), ("不用", "不用了")], fake.SentMessages[1].Buttons);
        Assert.Equal(1, fake.TokensIssued);
    }

    [Fact]
    public async Task Should_Report_A_Retryable_Failure_When_Feishu_Answers_429()
    {
        // Arrange
        await using var fake = await FakeFeishuServer.StartAsync();
        var channel = Channel(fake);
        await channel.SendAsync("oc_chat2", new OutgoingMessage { Text = "warm up" }, Ct);
        fake.RespondTooManyRequests(1, TimeSpan.FromSeconds(1));

        // Act
        var result = await channel.SendAsync("oc_chat2", new OutgoingMessage { Text = "你好" }, Ct);

        // Assert
        Assert.Equal(SendStatus.RetryableFailure, result.Status);
        Assert.Equal("99991400", result.ErrorCode);
    }

    [Fact]
    public async Task Should_Decrypt_The_Event_When_Feishu_Encrypts_It_With_The_Encrypt_Key()
    {
        // Arrange
        await using var fake = await FakeFeishuServer.StartAsync();
        var channel = Channel(fake);
        var (body, headers) = fake.Prepare(fake.MessageEvent("oc_chat3", "ou_user3", "@_user_1 今天有多少订单"));

        // Act
        var result = await channel.HandleEventAsync(body, headers["X-Lark-Request-Timestamp"], headers["X-Lark-Request-Nonce"], headers["X-Lark-Signature"], Ct);

        // Assert
        Assert.Equal(InboundStatus.Accepted, result.Status);
        Assert.Equal("今天有多少订单", result.Message!.Text);
        Assert.Equal("oc_chat3", result.Message.Conversation.ChatId);
        Assert.Equal("ou_user3", result.Message.Sender.Id);
        Assert.Equal(1, JsonNode.Parse(FeishuChannel.Decrypt(fake.EncryptKey, FeishuChannel.Encrypt(fake.EncryptKey, "{\"a\":1}")))!["a"]!.GetValue<int>());
    }
}
