using Platform.Channels.Rendering;

namespace Platform.Channels.WeChat;

/// <summary>
/// Settings of one WeChat Official Account (微信公众号) or WeCom (企业微信) app channel. The names follow the consoles:
/// 公众号 → 设置与开发 → 基本配置 (AppID, AppSecret, 服务器配置: URL, Token, EncodingAESKey, 消息加解密方式), and for WeCom
/// 应用管理 → 自建应用 (AgentId, Secret) → 接收消息 (URL, Token, EncodingAESKey) with the CorpID from 我的企业.
/// </summary>
public sealed record WeChatOptions
{
    /// <summary><see cref="ChannelKind.WeChat"/> or <see cref="ChannelKind.WeCom"/>.</summary>
    public ChannelKind Kind { get; init; } = ChannelKind.WeChat;

    /// <summary>The AppID (开发者ID) of the Official Account, or the CorpID (企业ID) of WeCom; also the receiveid of the
    /// encrypted messages.</summary>
    public required string AppId { get; init; }

    /// <summary>The AppSecret (开发者密码), or the WeCom app's Secret. Secret.</summary>
    public required string Secret { get; init; }

    /// <summary>The Token (令牌) of the server configuration; signs every callback. Secret.</summary>
    public required string Token { get; init; }

    /// <summary>The EncodingAESKey (消息加解密密钥, 43 characters). Needed for the safe mode (安全模式) and the
    /// compatible mode of Official Accounts and always for WeCom; without it an Official Account takes plaintext
    /// callbacks only (明文模式). Secret.</summary>
    public string? EncodingAesKey { get; init; }

    /// <summary>WeCom: the app's AgentId.</summary>
    public string? AgentId { get; init; }

    /// <summary>The API base URL (<c>https://api.weixin.qq.com/</c>, WeCom <c>https://qyapi.weixin.qq.com/</c>); tests
    /// point it at a loopback fake.</summary>
    public Uri? ApiBaseUrl { get; init; }

    /// <summary>The API base URL in use.</summary>
    public Uri EffectiveApiBaseUrl => ApiBaseUrl ?? new Uri(Kind == ChannelKind.WeCom ? "https://qyapi.weixin.qq.com/" : "https://api.weixin.qq.com/");

    /// <summary>How far a callback's <c>timestamp</c> may be from now.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a callback waits for the answer to go back as a passive reply (WeChat waits 5 s, then
    /// retries); after that it answers <c>success</c> and the answer goes out through the send API.</summary>
    public TimeSpan PassiveReplyTimeout { get; init; } = TimeSpan.FromMilliseconds(4500);

    /// <summary>The longest text per message (WeChat and WeCom take 2048 bytes of UTF-8; 600 characters of Chinese fit).</summary>
    public int MaxMessageLength { get; init; } = 600;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one API call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
