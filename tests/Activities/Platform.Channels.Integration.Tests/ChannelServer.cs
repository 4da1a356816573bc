using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engine.Contracts;
using Platform.Testing;

namespace Platform.Channels.Integration.Tests;

/// <summary>The server in memory on SQLite in its own data directory, with the channels given as configuration.</summary>
public sealed class ChannelServer : WebApplicationFactory<Program>
{
    /// <summary>Tests that start servers share this collection: WebApplicationFactory&lt;Program&gt; hosts built at the same time in one
    /// process can pick up each other's host (the minimal-hosting entry point is intercepted process-wide).</summary>
    public const string Collection = "servers";

    private readonly TempDirectory _data = new("channels-server");
    private readonly Dictionary<string, string?> _settings;

    public ChannelServer(IReadOnlyDictionary<string, string?> settings)
    {
        _settings = new Dictionary<string, string?>(settings)
        {
            ["Platform:DataDirectory"] = _data.Path,
            ["Platform:Database:Provider"] = "Sqlite",
            ["Platform:ApiKeys:0:Key"] = "channels-test-admin-key-0123456789",
            ["Platform:ApiKeys:0:Name"] = "tests-admin",
            ["Platform:ApiKeys:0:Role"] = "Admin",
            ["Platform:Messaging:RetryDelay"] = "00:00:00.200",
        };
        if (!_settings.ContainsKey("Platform:Mqtt:EmbeddedPort")) _settings["Platform:Mqtt:EmbeddedPort"] = "0";
    }

    /// <summary>The data directory.</summary>
    public string DataDirectory => _data.Path;

    /// <summary>Channel settings as configuration keys: <c>Platform:Channels:{name}:{key}</c>.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Channel(string name, string kind, IReadOnlyDictionary<string, string?> settings) =>
        settings.Select(p => new KeyValuePair<string, string?>($"Platform:Channels:{name}:{p.Key}", p.Value))
            .Append(new KeyValuePair<string, string?>($"Platform:Channels:{name}:kind", kind));

    /// <summary>Publishes Message Received (on <paramref name="channel"/>) → Send Reply (<paramref name="reply"/>).</summary>
    public async Task PublishEchoWorkflowAsync(string channel, string reply)
    {
        static JsonObject Literal(string value) => new()
        {
            ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value },
        };
        var model = new JsonObject
        {
            ["name"] = $"reply on {channel} {Guid.NewGuid():N}",
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1, ["name"] = "received", ["channel"] = Literal(channel) },
                    new JsonObject { ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["name"] = "reply", ["text"] = Literal(reply) }),
                ["connections"] = new JsonArray(new JsonObject
                {
                    ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" },
                    ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" },
                    ["vertices"] = new JsonArray(),
                }),
            },
        };
        await Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
    }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
            if (value is not null) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is ObjectDisposedException { ObjectName: "IServiceProvider" }))
        {
            // The engine's in-progress background-activity hosted services (uncommitted work in Platform.Engine at the time of writing)
            // resolve services in StopAsync after the provider is gone; that is a shutdown-order issue outside the channels under test.
        }
        _data.Dispose();
    }
}
