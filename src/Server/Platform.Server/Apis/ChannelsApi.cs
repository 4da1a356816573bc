using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Channels under <c>/api/channels</c> and the message log under <c>/api/messages</c>: the inbox (what came in, and what
/// became of it) and the outbox (replies, their delivery attempts and dead letters with the reason). Secret settings are
/// write-only: answers list their names under <c>secrets</c>, never their values. Reading needs any role; changing needs Admin (channels hold secrets); retrying a dead letter needs Operator.
/// </summary>
public static class ChannelsApi
{
    /// <summary>The channel route prefix.</summary>
    public const string Prefix = "/api/channels";

    /// <summary>The message log route prefix.</summary>
    public const string MessagesPrefix = "/api/messages";

    /// <summary>A channel as answered.</summary>
    public sealed record ChannelResponse(string Name, ChannelKind Kind, bool Enabled, JsonObject Settings, IReadOnlyList<string> Secrets,
        ChannelSource Source, string? Error, IReadOnlyDictionary<string, string> Endpoints, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        ChannelStatus Status);

    /// <summary>Whether a channel works.</summary>
    /// <param name="State"><c>connected</c> (its adapter is ready, its listener connected, and its last delivery did not fail),
    /// <c>error</c> (see <paramref name="Reason"/>) or <c>disabled</c>.</param>
    /// <param name="Reason">Why it is in error or disabled.</param>
    public sealed record ChannelStatus(string State, string? Reason)
    {
        /// <summary>The channel works.</summary>
        public static ChannelStatus Connected { get; } = new("connected", null);

        /// <summary>The channel does not work, for <paramref name="reason"/>.</summary>
        public static ChannelStatus Failing(string reason) => new("error", reason);
    }

    /// <summary>A create or update request. Omitted secret settings keep their stored values.</summary>
    public sealed record ChannelRequest(string? Name, ChannelKind? Kind, bool? Enabled, JsonObject? Settings);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapChannelsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Channels");
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapPut("/{name}", UpdateAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapDelete("/{name}", DeleteAsync).RequireAuthorization(ApiPolicies.Admin);

        var messages = app.MapGroup(MessagesPrefix).RequireAuthorization(ApiPolicies.Read).WithTags("Messages");
        messages.MapGet("/inbox", ListInboxAsync);
        messages.MapGet("/outbox", ListOutboxAsync);
        messages.MapGet("/outbox/{id}", GetOutboxAsync);
        messages.MapPost("/outbox/{id}/retry", RetryAsync).RequireAuthorization(ApiPolicies.Operate);
        return app;
    }

    private static async Task<ChannelResponse> ToResponseAsync(ChannelConfig c, ChannelHub hub, HttpContext http, CancellationToken ct)
    {
        var runtime = await hub.GetAsync(c.Name, ct);
        return ToResponse(c, runtime?.Error, await StatusAsync(c, runtime, http.RequestServices, ct));
    }

    /// <summary>
    /// Disabled; else the adapter's configuration error; else, for channels that listen (e-mail over IMAP, MQTT subscriptions), whether
    /// the listener is connected; else the outcome of the channel's newest outgoing message (dead-lettered, or failing and retried).
    /// </summary>
    private static async Task<ChannelStatus> StatusAsync(ChannelConfig c, ChannelRuntime? runtime, IServiceProvider services, CancellationToken ct)
    {
        if (!c.Enabled) return new ChannelStatus("disabled", "The channel is disabled: nothing is received or sent on it.");
        if (runtime?.Error is { } error) return ChannelStatus.Failing(error);
        if (c.Kind == ChannelKind.Email && c.Get("imapHost") is { Length: > 0 } imap
            && services.GetService<Platform.Messaging.Email.EmailListenerService>() is { } mail
            && !(mail.Listeners.TryGetValue(c.Name, out var listener) && listener.IsConnected))
            return ChannelStatus.Failing($"Not connected to the IMAP server {imap}: retrying with backoff (the server log says why).");
        if (c.Kind == ChannelKind.Mqtt && c.Get("topics") is { Length: > 0 }
            && services.GetService<Platform.Messaging.Mqtt.MqttListenerService>() is { } mqtt && !mqtt.SubscribedChannels.Contains(c.Name))
            return ChannelStatus.Failing("Not subscribed at the MQTT broker: reconnecting with backoff (the server log says why).");
        var newest = (await services.GetRequiredService<IOutboxStore>().ListAsync(c.Name, null, null, new PageArgs(0, 1), ct)).Items;
        return newest.Count == 1 && newest[0] is { LastError: { } last } m && m.Status != OutboxStatus.Sent
            ? ChannelStatus.Failing(m.Status == OutboxStatus.DeadLettered ? $"The newest message could not be delivered: {last}" : $"Delivery is failing and being retried: {last}")
            : ChannelStatus.Connected;
    }

    private static ChannelResponse ToResponse(ChannelConfig c, string? error, ChannelStatus status)
    {
        var settings = new JsonObject();
        var secrets = new List<string>();
        foreach (var (key, value) in c.Settings)
        {
            if (ChannelConfig.SecretSettings.Contains(key)) secrets.Add(key);
            else settings[key] = value?.DeepClone();
        }
        return new ChannelResponse(c.Name, c.Kind, c.Enabled, settings, secrets, c.Source, error, Endpoints(c), c.CreatedAt, c.UpdatedAt, status);
    }

    /// <summary>The URLs a channel service must call, relative to the server's public address.</summary>
    private static Dictionary<string, string> Endpoints(ChannelConfig c)
    {
        var name = Uri.EscapeDataString(c.Name);
        return c.Kind switch
        {
            ChannelKind.Telegram => new() { ["webhook"] = $"/channels/{name}/telegram/webhook" },
            ChannelKind.Slack => new() { ["events"] = $"/channels/{name}/slack/events", ["interactions"] = $"/channels/{name}/slack/interactions" },
            ChannelKind.Sms => new() { ["messages"] = $"/channels/{name}/twilio/messages", ["status"] = $"/channels/{name}/twilio/status" },
            ChannelKind.Webhook => new() { ["webhook"] = $"/channels/{name}/webhook" },
            ChannelKind.WebChat => new() { ["websocket"] = $"/ws/chat?channel={name}", ["widget"] = $"/chat?channel={name}" },
            ChannelKind.WhatsApp => new() { ["webhook"] = $"/channels/{name}/whatsapp/webhook" },
            ChannelKind.Discord => new() { ["interactions"] = $"/channels/{name}/discord/interactions" },
            ChannelKind.WeChat => new() { ["server"] = $"/channels/{name}/wechat" },
            ChannelKind.WeCom => new() { ["callback"] = $"/channels/{name}/wecom" },
            ChannelKind.Feishu => new() { ["events"] = $"/channels/{name}/feishu/events" },
            _ => new(),
        };
    }

    private static ProblemHttpResult NotFound(string name) =>
        Problems.NotFound($"Channel '{name}' was not found.", $"GET {Prefix} lists the channels; create one with POST {Prefix}.");

    /// <summary>GET /api/channels.</summary>
    public static async Task<Ok<List<ChannelResponse>>> ListAsync(IChannelStore store, ChannelHub hub, HttpContext http, CancellationToken ct)
    {
        var list = new List<ChannelResponse>();
        foreach (var c in await store.ListAsync(ct)) list.Add(await ToResponseAsync(c, hub, http, ct));
        return TypedResults.Ok(list);
    }

    /// <summary>GET /api/channels/{name}.</summary>
    public static async Task<Results<Ok<ChannelResponse>, ProblemHttpResult>> GetAsync(string name, IChannelStore store, ChannelHub hub, HttpContext http,
        CancellationToken ct) =>
        await store.FindAsync(name, ct) is { } c ? TypedResults.Ok(await ToResponseAsync(c, hub, http, ct)) : NotFound(name);

    /// <summary>POST /api/channels: 201; 400 on bad input (unknown kind, missing required settings); 409 when the name is taken.</summary>
    public static async Task<Results<Created<ChannelResponse>, ProblemHttpResult>> CreateAsync(ChannelRequest request, IChannelStore store, ChannelHub hub,
        IEnumerable<IChannelProvider> providers, HttpContext http, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!EfChannelStore.IsValidName(request.Name))
            return Problems.BadRequest("The channel name is not valid.", "Use 1-64 letters, digits, '-' or '_' (the name appears in URLs).");
        if (await store.FindAsync(request.Name!, ct) is not null)
            return Problems.Conflict($"The channel '{request.Name}' already exists.", $"Update it with PUT {Prefix}/{request.Name} or pick another name.");
        if (request.Kind is null)
            return Problems.BadRequest("The channel needs a kind.", $"Set 'kind' to one of: {string.Join(", ", Enum.GetNames<ChannelKind>())}.");
        var config = new ChannelConfig { Name = request.Name!, Kind = request.Kind.Value, Enabled = request.Enabled ?? true, Settings = request.Settings ?? new JsonObject() };
        if (Validate(config, providers, loggers) is { } problem) return problem;
        var saved = await store.SaveAsync(config, ct);
        return TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(saved.Name)}", await ToResponseAsync(saved, hub, http, ct));
    }

    /// <summary>PUT /api/channels/{name}: creates or updates; omitted secrets keep their values.</summary>
    public static async Task<Results<Ok<ChannelResponse>, Created<ChannelResponse>, ProblemHttpResult>> UpdateAsync(string name, ChannelRequest request,
        IChannelStore store, ChannelHub hub, IEnumerable<IChannelProvider> providers, HttpContext http, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!EfChannelStore.IsValidName(name))
            return Problems.BadRequest("The channel name is not valid.", "Use 1-64 letters, digits, '-' or '_' (the name appears in URLs).");
        if (request.Name is not null && request.Name != name)
            return Problems.BadRequest("The name in the body differs from the name in the URL.", "Renaming is not supported: create a new channel and delete the old one.");
        var existing = await store.FindAsync(name, ct);
        var kind = request.Kind ?? existing?.Kind;
        if (kind is null)
            return Problems.BadRequest("The channel needs a kind.", $"Set 'kind' to one of: {string.Join(", ", Enum.GetNames<ChannelKind>())}.");
        var settings = request.Settings ?? (JsonObject?)existing?.Settings.DeepClone() ?? new JsonObject();
        if (existing is not null)
            foreach (var (key, value) in existing.Settings)
                if (ChannelConfig.SecretSettings.Contains(key) && !settings.ContainsKey(key)) settings[key] = value?.DeepClone();
        var config = new ChannelConfig { Name = name, Kind = kind.Value, Enabled = request.Enabled ?? existing?.Enabled ?? true, Settings = settings };
        if (Validate(config, providers, loggers) is { } problem) return problem;
        var saved = await store.SaveAsync(config, ct);
        var response = await ToResponseAsync(saved, hub, http, ct);
        return existing is null || existing.Source == ChannelSource.Configuration
            ? TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(name)}", response) : TypedResults.Ok(response);
    }

    /// <summary>DELETE /api/channels/{name}: 204, 404, or 409 for a channel defined in appsettings.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, IChannelStore store, CancellationToken ct)
    {
        if (await store.FindAsync(name, ct) is not { } c) return NotFound(name);
        if (c.Source == ChannelSource.Configuration)
            return Problems.Conflict($"Channel '{name}' comes from the configuration.", $"Remove Platform:Channels:{name} from appsettings (or the environment) instead.");
        await store.DeleteAsync(name, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The values the channel setting <c>language</c> takes (it fixes the reply language; left out, it is detected per message).</summary>
    public static readonly IReadOnlyList<string> ChannelLanguages = ["zh", "en"];

    private static ProblemHttpResult? Validate(ChannelConfig config, IEnumerable<IChannelProvider> providers, ILoggerFactory loggers)
    {
        // "language": zh or en (also zh-CN, zh-Hans, en-US, chinese, english, 中文), or absent/empty for detection per message.
        if (config.Settings.TryGetPropertyValue("language", out var language) && language is not null
            && !(language is JsonValue value && value.TryGetValue<string>(out var text)
                 && (string.IsNullOrWhiteSpace(text) || Platform.Activities.Devices.DeviceLanguages.Normalize(text) is not null)))
        {
            loggers.CreateLogger(typeof(ChannelsApi)).LogWarning("Channel {Channel} refused: the language setting {Language} is not zh or en.", config.Name,
                language.ToJsonString());
            return Problems.BadRequest($"The channel setting 'language' is {language.ToJsonString()}, which is not a reply language.",
                $"Set \"language\" to one of: {string.Join(", ", ChannelLanguages)} (zh-CN, zh-Hans and en-US are read as zh and en), or leave it out to answer each message in its own language.");
        }
        var provider = providers.LastOrDefault(p => p.Kind == config.Kind);
        if (provider is null)
            return Problems.BadRequest($"{config.Kind} channels are not available in this server.", "Install the channel's adapter, or pick another kind.");
        try
        {
            provider.Create(config);
            return null;
        }
        catch (Exception e) when (e is ChannelConfigurationException or ArgumentException or FormatException)
        {
            return Problems.BadRequest($"Channel '{config.Name}' is not configured completely.", e.Message);
        }
    }

    /// <summary>GET /api/messages/inbox?channel=&amp;status=&amp;skip=&amp;take=.</summary>
    public static async Task<Ok<PagedList<InboxMessage>>> ListInboxAsync(IInboxStore inbox, string? channel, InboxStatus? status, int? skip, int? take, CancellationToken ct)
    {
        var page = await inbox.ListAsync(channel, status, Page(skip, take), ct);
        return TypedResults.Ok(new PagedList<InboxMessage>(page.Items, page.TotalCount));
    }

    /// <summary>GET /api/messages/outbox?channel=&amp;status=&amp;conversation=&amp;skip=&amp;take=.</summary>
    public static async Task<Ok<PagedList<OutboxMessage>>> ListOutboxAsync(IOutboxStore outbox, string? channel, OutboxStatus? status, string? conversation,
        int? skip, int? take, CancellationToken ct)
    {
        var page = await outbox.ListAsync(channel, status, conversation, Page(skip, take), ct);
        return TypedResults.Ok(new PagedList<OutboxMessage>(page.Items, page.TotalCount));
    }

    /// <summary>GET /api/messages/outbox/{id}.</summary>
    public static async Task<Results<Ok<OutboxMessage>, ProblemHttpResult>> GetOutboxAsync(string id, IOutboxStore outbox, CancellationToken ct) =>
        await outbox.FindAsync(id, ct) is { } m ? TypedResults.Ok(m)
            : Problems.NotFound($"Outbox message '{id}' was not found.", $"GET {MessagesPrefix}/outbox lists the messages.");

    /// <summary>POST /api/messages/outbox/{id}/retry: sends a dead-lettered message again (with fresh attempts); 409 when it is not dead-lettered.</summary>
    public static async Task<Results<Accepted<OutboxMessage>, ProblemHttpResult>> RetryAsync(string id, IOutboxStore outbox, OutboxDispatcher dispatcher,
        TimeProvider clock, CancellationToken ct)
    {
        if (await outbox.FindAsync(id, ct) is not { } m)
            return Problems.NotFound($"Outbox message '{id}' was not found.", $"GET {MessagesPrefix}/outbox lists the messages.");
        if (m.Status != OutboxStatus.DeadLettered)
            return Problems.Conflict($"Outbox message '{id}' is {m.Status}.", "Only dead-lettered messages can be retried; pending ones are retried automatically.");
        m.Status = OutboxStatus.Pending;
        m.Attempts = 0;
        m.NextAttemptAt = clock.GetUtcNow();
        await outbox.UpdateAsync(m, ct);
        dispatcher.Enqueue(m);
        return TypedResults.Accepted($"{MessagesPrefix}/outbox/{Uri.EscapeDataString(id)}", m);
    }

    private static PageArgs Page(int? skip, int? take) => new(Math.Max(0, skip ?? 0), Math.Clamp(take ?? 50, 1, 500));

    /// <summary>A page of items.</summary>
    public sealed record PagedList<T>(IReadOnlyList<T> Items, long TotalCount);
}
