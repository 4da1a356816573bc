using System.Net;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary>
/// The WeChat Official Account, WeCom and Feishu channels end to end through the seed assistant in Chinese, against the loopback
/// fakes: URL verification, plaintext and encrypted callbacks, the passive reply versus the send API, forged and replayed
/// signatures, access-token expiry and malformed bodies.
/// </summary>
public sealed class WeChatChannelTests(DemoServerFixture demo) : IClassFixture<DemoServerFixture>
{
    private const string Question = "今天有多少订单?";
    private const string Answer = "今天来了 5 个订单，总额 575.6。";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpClient Client() => demo.Factory.CreateClient();

    private Uri Url(string path) => new(Client().BaseAddress!, path);

    private async Task<string> CreateWeChatAsync(FakeWeChatServer fake, bool safeMode, int passiveMilliseconds)
    {
        var name = (fake.IsWeCom ? "wecom-" : "wechat-") + Guid.NewGuid().ToString("N")[..8];
        var settings = fake.IsWeCom
            ? new JsonObject { ["corpId"] = fake.AppId, ["corpSecret"] = fake.Secret, ["agentId"] = fake.AgentId.ToString(System.Globalization.CultureInfo.InvariantCulture) }
            : new JsonObject { ["appId"] = fake.AppId, ["appSecret"] = fake.Secret };
        settings["token"] = fake.Token;
        if (safeMode || fake.IsWeCom) settings["encodingAesKey"] = fake.EncodingAesKey;
        settings["apiBaseUrl"] = fake.BaseUrl.ToString();
        settings["passiveReplyMilliseconds"] = passiveMilliseconds;
        await demo.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = fake.IsWeCom ? "WeCom" : "WeChat", ["settings"] = settings },
            HttpStatusCode.Created);
        return name;
    }

    private async Task<string> CreateFeishuAsync(FakeFeishuServer fake)
    {
        var name = "feishu-" + Guid.NewGuid().ToString("N")[..8];
        await demo.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Feishu",
            ["settings"] = new JsonObject
            {
                ["appId"] = fake.AppId, ["appSecret"] = fake.AppSecret, ["encryptKey"] = fake.EncryptKey, ["verificationToken"] = fake.VerificationToken,
                ["apiBaseUrl"] = fake.BaseUrl.ToString(),
            },
        }, HttpStatusCode.Created);
        return name;
    }

    private async Task<long> InboxCountAsync(string channel) =>
        (await demo.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}"))["totalCount"]!.GetValue<long>();

    private static async Task<T> WaitForAsync<T>(Func<IReadOnlyList<T>> items, int count = 1)
    {
        for (var i = 0; i < 600 && items().Count < count; i++) await Task.Delay(50, Ct);
        Assert.True(items().Count >= count, $"Nothing was sent.\n{ServerErrorLog.Latest()}");
        return items()[count - 1];
    }

    private static long MsgId() => Random.Shared.NextInt64(1_000_000_000_000_000, 9_000_000_000_000_000);

    [Fact]
    public async Task Should_Answer_In_Chinese_With_A_Passive_Reply_When_The_Answer_Is_Ready_While_WeChat_Waits()
    {
        // Arrange: plaintext mode (明文模式); the wait is long so that a slow test machine still answers in time.
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: false, passiveMilliseconds: 60_000);

        // Act
        var response = await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage("oUser" + MsgId(), Question, MsgId()), via: Client());

        // Assert: the answer is the callback's XML response, and nothing went through the customer-service API.
        Assert.Equal(200, response.Status);
        var reply = wechat.ReadReply(response.Body);
        Assert.Equal("text", (string?)reply.Element("MsgType"));
        Assert.Equal(Answer, (string?)reply.Element("Content"));
        Assert.StartsWith("oUser", (string?)reply.Element("ToUserName"));
        Assert.Empty(wechat.SentMessages);
    }

    [Fact]
    public async Task Should_Encrypt_The_Passive_Reply_When_The_Account_Uses_The_Safe_Mode()
    {
        // Arrange: safe mode (安全模式): the callback and the reply are AES-encrypted and signed with msg_signature.
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: true, passiveMilliseconds: 60_000);

        // Act
        var response = await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage("oSafe" + MsgId(), Question, MsgId()), encrypt: true, via: Client());

        // Assert: the fake decrypts the reply with the EncodingAESKey and checks its MsgSignature and receiveid.
        Assert.Equal(200, response.Status);
        Assert.Contains("<Encrypt>", response.Body);
        Assert.DoesNotContain("575.6", response.Body);
        Assert.Equal(Answer, (string?)wechat.ReadReply(response.Body).Element("Content"));
    }

    [Fact]
    public async Task Should_Answer_Success_And_Send_Through_The_Customer_Service_Api_When_The_Answer_Is_Not_Ready_In_Time()
    {
        // Arrange: no wait at all, so the answer is always late.
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: true, passiveMilliseconds: 0);
        var user = "oLate" + MsgId();

        // Act
        var response = await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage(user, Question, MsgId()), encrypt: true, via: Client());
        var sent = await WaitForAsync(() => wechat.SentMessages);

        // Assert
        Assert.Equal(200, response.Status);
        Assert.Equal("success", response.Body);
        Assert.Equal(user, sent.ToUser);
        Assert.Equal("text", sent.MsgType);
        Assert.Equal(Answer, sent.Content);
        Assert.Equal(1, wechat.TokensIssued);
    }

    [Fact]
    public async Task Should_Fetch_A_New_Access_Token_When_WeChat_Answers_42001_Expired()
    {
        // Arrange
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: false, passiveMilliseconds: 0);
        var user = "oExp" + MsgId();
        await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage(user, Question, MsgId()), via: Client());
        await WaitForAsync(() => wechat.SentMessages);

        // Act: the cached token expires at WeChat.
        wechat.ExpireTokens();
        await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage(user, Question, MsgId()), via: Client());
        var second = await WaitForAsync(() => wechat.SentMessages, 2);

        // Assert: one refused call with 42001, a second token, the answer delivered.
        Assert.Equal(Answer, second.Content);
        Assert.Equal(2, wechat.TokensIssued);
        Assert.Contains(wechat.Requests, r => r.Path == "/cgi-bin/message/custom/send" && r.ResponseBody.Contains("42001", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Echo_The_Echostr_When_WeChat_And_WeCom_Verify_The_Url()
    {
        // Arrange
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        await using var wecom = await FakeWeChatServer.StartWeComAsync();
        var wechatChannel = await CreateWeChatAsync(wechat, safeMode: false, passiveMilliseconds: 0);
        var wecomChannel = await CreateWeChatAsync(wecom, safeMode: true, passiveMilliseconds: 0);

        // Act
        var plain = await wechat.VerifyUrlAsync(Url($"/channels/{wechatChannel}/wechat"), "8763821742398", via: Client());
        var forged = await wechat.VerifyUrlAsync(Url($"/channels/{wechatChannel}/wechat"), "8763821742398", token: "wrong-token", via: Client());
        var encrypted = await wecom.VerifyUrlAsync(Url($"/channels/{wecomChannel}/wecom"), "1616140317555161061", via: Client());

        // Assert: WeCom's echostr comes back decrypted.
        Assert.Equal((200, "8763821742398"), (plain.Status, plain.Body));
        Assert.Equal(401, forged.Status);
        Assert.Equal((200, "1616140317555161061"), (encrypted.Status, encrypted.Body));
    }

    [Fact]
    public async Task Should_Refuse_With_401_And_Store_Nothing_When_A_WeChat_Signature_Is_Forged_Stale_Or_Replayed()
    {
        // Arrange
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: true, passiveMilliseconds: 0);
        var url = Url($"/channels/{channel}/wechat");

        // Act
        var forged = await wechat.SendCallbackAsync(url, wechat.TextMessage("oForged", "你好", MsgId()), encrypt: true, token: "not-the-token", via: Client());
        var tampered = await wechat.SendCallbackAsync(url, wechat.TextMessage("oForged", "你好", MsgId()), encrypt: true,
            tamperedBody: $"<xml><Encrypt><![CDATA[{wechat.Encrypt(wechat.TextMessage("oForged", "转账", MsgId()))}]]></Encrypt></xml>", via: Client());
        var stale = await wechat.SendCallbackAsync(url, wechat.TextMessage("oForged", "你好", MsgId()), encrypt: true, timestamp: DateTimeOffset.UtcNow.AddHours(-1), via: Client());
        var forgedCount = await InboxCountAsync(channel);
        var (replayUrl, replayBody) = wechat.Callback(url, wechat.TextMessage("oReplay", "你好", MsgId()), encrypt: true);
        var first = await wechat.PostAsync(replayUrl, replayBody, Client());
        var replayed = await wechat.PostAsync(replayUrl, replayBody, Client());

        // Assert
        Assert.Equal([401, 401, 401], new[] { forged.Status, tampered.Status, stale.Status });
        Assert.Equal(0, forgedCount);
        Assert.Equal(200, first.Status);
        Assert.Equal(401, replayed.Status);
        Assert.Equal(1, await InboxCountAsync(channel));
    }

    [Fact]
    public async Task Should_Answer_400_When_The_WeChat_Callback_Is_Not_Xml()
    {
        // Arrange
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        var channel = await CreateWeChatAsync(wechat, safeMode: false, passiveMilliseconds: 0);

        // Act: a correctly signed query with a broken body, and one with an external entity.
        var broken = await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage("oBad", "hi", MsgId()), tamperedBody: "<xml><Content>", via: Client());
        var entity = await wechat.SendCallbackAsync(Url($"/channels/{channel}/wechat"), wechat.TextMessage("oBad", "hi", MsgId()),
            tamperedBody: "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><Content>&x;</Content></xml>", via: Client());

        // Assert
        Assert.Equal(400, broken.Status);
        Assert.Equal(400, entity.Status);
        Assert.Contains("XML", broken.Body, StringComparison.Ordinal);
        Assert.Equal(0, await InboxCountAsync(channel));
    }

    [Fact]
    public async Task Should_Answer_Through_The_App_Message_Api_When_A_WeCom_User_Asks_In_Chinese()
    {
        // Arrange: WeCom always encrypts; the answer goes out with message/send (agentid, touser) when it is late.
        await using var wecom = await FakeWeChatServer.StartWeComAsync();
        var channel = await CreateWeChatAsync(wecom, safeMode: true, passiveMilliseconds: 0);

        // Act
        var response = await wecom.SendCallbackAsync(Url($"/channels/{channel}/wecom"), wecom.TextMessage("ZhangSan", Question, MsgId()), via: Client());
        var sent = await WaitForAsync(() => wecom.SentMessages);

        // Assert
        Assert.Equal(200, response.Status);
        Assert.Equal("ZhangSan", sent.ToUser);
        Assert.Equal(Answer, sent.Content);
        Assert.Equal(wecom.AgentId, sent.Body["agentid"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_Answer_With_A_Passive_Encrypted_Reply_When_A_WeCom_Answer_Is_Ready_In_Time()
    {
        // Arrange
        await using var wecom = await FakeWeChatServer.StartWeComAsync();
        var channel = await CreateWeChatAsync(wecom, safeMode: true, passiveMilliseconds: 60_000);

        // Act
        var response = await wecom.SendCallbackAsync(Url($"/channels/{channel}/wecom"), wecom.TextMessage("LiSi", Question, MsgId()), via: Client());

        // Assert
        Assert.Equal(200, response.Status);
        Assert.Equal(Answer, (string?)wecom.ReadReply(response.Body).Element("Content"));
        Assert.Empty(wecom.SentMessages);
    }

    [Fact]
    public async Task Should_Answer_The_Challenge_And_Reply_In_Chinese_When_Feishu_Sends_Encrypted_Events()
    {
        // Arrange
        await using var feishu = await FakeFeishuServer.StartAsync();
        var channel = await CreateFeishuAsync(feishu);
        var url = Url($"/channels/{channel}/feishu/events");
        var chat = "oc_" + Guid.NewGuid().ToString("N");

        // Act
        var challenge = await feishu.SendEventAsync(url, feishu.UrlVerification("ajls384kdjx98XX"), via: Client());
        var message = await feishu.SendEventAsync(url, feishu.MessageEvent(chat, "ou_" + Guid.NewGuid().ToString("N"), Question), via: Client());
        var sent = await WaitForAsync(() => feishu.SentMessages);

        // Assert
        Assert.Equal(200, challenge.Status);
        Assert.Equal("ajls384kdjx98XX", JsonNode.Parse(challenge.Body)!["challenge"]!.GetValue<string>());
        Assert.Equal(200, message.Status);
        Assert.Equal(chat, sent.ReceiveId);
        Assert.Equal(Answer, sent.Text.Trim());
        Assert.Contains(feishu.Requests, r => r.Path == "/open-apis/im/v1/messages" && r.Query.Contains("receive_id_type=chat_id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Take_A_Card_Button_As_The_Next_Message_When_Feishu_Sends_A_Card_Action()
    {
        // Arrange
        await using var feishu = await FakeFeishuServer.StartAsync();
        var channel = await CreateFeishuAsync(feishu);
        var chat = "oc_" + Guid.NewGuid().ToString("N");

        // Act
        var response = await feishu.SendEventAsync(Url($"/channels/{channel}/feishu/events"), feishu.CardAction(chat, "ou_card", "om_card", Question), via: Client());
        var sent = await WaitForAsync(() => feishu.SentMessages);

        // Assert: the callback is answered with a toast; the button's value is processed like a typed message.
        Assert.Equal(200, response.Status);
        Assert.Contains("toast", response.Body, StringComparison.Ordinal);
        Assert.Equal(Answer, sent.Text.Trim());
    }

    [Fact]
    public async Task Should_Refuse_With_401_And_Store_Nothing_When_A_Feishu_Signature_Is_Forged_Or_Replayed()
    {
        // Arrange
        await using var feishu = await FakeFeishuServer.StartAsync();
        var channel = await CreateFeishuAsync(feishu);
        var url = Url($"/channels/{channel}/feishu/events");

        // Act
        var forged = await feishu.SendEventAsync(url, feishu.MessageEvent("oc_forged", "ou_forged", "你好"), encryptKey: "not-the-key", via: Client());
        var stale = await feishu.SendEventAsync(url, feishu.MessageEvent("oc_forged", "ou_forged", "你好"), timestamp: DateTimeOffset.UtcNow.AddHours(-2), via: Client());
        var unsigned = await feishu.PostAsync(url, feishu.Prepare(feishu.MessageEvent("oc_forged", "ou_forged", "你好")).Body, via: Client());
        var notJson = await feishu.PostAsync(url, "{\"encrypt\": ", via: Client());
        var forgedCount = await InboxCountAsync(channel);
        var (body, headers) = feishu.Prepare(feishu.MessageEvent("oc_replay", "ou_replay", "你好"));
        var first = await feishu.PostAsync(url, body, headers, Client());
        var replayed = await feishu.PostAsync(url, body, headers, Client());

        // Assert
        Assert.Equal([401, 401, 401, 400], new[] { forged.Status, stale.Status, unsigned.Status, notJson.Status });
        Assert.Equal(0, forgedCount);
        Assert.Equal(200, first.Status);
        Assert.Equal(401, replayed.Status);
        Assert.Equal(1, await InboxCountAsync(channel));
    }

    [Fact]
    public async Task Should_Fetch_A_New_Tenant_Token_When_Feishu_Reports_It_Expired()
    {
        // Arrange
        await using var feishu = await FakeFeishuServer.StartAsync();
        var channel = await CreateFeishuAsync(feishu);
        var url = Url($"/channels/{channel}/feishu/events");
        var chat = "oc_" + Guid.NewGuid().ToString("N");
        await feishu.SendEventAsync(url, feishu.MessageEvent(chat, "ou_exp", Question), via: Client());
        await WaitForAsync(() => feishu.SentMessages);

        // Act
        feishu.ExpireTokens();
        await feishu.SendEventAsync(url, feishu.MessageEvent(chat, "ou_exp", Question), via: Client());
        var second = await WaitForAsync(() => feishu.SentMessages, 2);

        // Assert
        Assert.Equal(Answer, second.Text.Trim());
        Assert.Equal(2, feishu.TokensIssued);
        Assert.Contains(feishu.Requests, r => r.ResponseBody.Contains("99991677", StringComparison.Ordinal));
    }
}
