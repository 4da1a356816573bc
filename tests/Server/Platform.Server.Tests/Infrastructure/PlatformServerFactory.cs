using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>The server in memory, configured like an operator would: data directory, database and API keys.</summary>
public sealed class PlatformServerFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    /// <summary>The Admin key the fixtures configure.</summary>
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    /// <summary>The Operator (read-only) key the fixtures configure.</summary>
    public const string OperatorKey = "test-operator-key-0123456789abcdef";

    /// <summary>Settings for a server with one Admin and one Operator key.</summary>
    public static Dictionary<string, string?> WithKeys(string dataDirectory, string provider = "Sqlite", string? connectionString = null) => new()
    {
        ["Platform:DataDirectory"] = dataDirectory,
        ["Platform:Database:Provider"] = provider,
        ["ConnectionStrings:Platform"] = connectionString,
        ["Platform:ApiKeys:0:Key"] = AdminKey,
        ["Platform:ApiKeys:0:Name"] = "tests-admin",
        ["Platform:ApiKeys:0:Role"] = "Admin",
        ["Platform:ApiKeys:1:Key"] = OperatorKey,
        ["Platform:ApiKeys:1:Name"] = "tests-operator",
        ["Platform:ApiKeys:1:Role"] = "Operator",
    };

    /// <summary>A client that sends <c>Authorization: ApiKey &lt;key&gt;</c> (none when null).</summary>
    public HttpClient CreateClient(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", apiKey);
        return client;
    }

    /// <summary>Extra service registrations of a test (applied after the server's own).</summary>
    public Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? ConfigureTestServices { get; init; }

    /// <inheritdoc />
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (ConfigureTestServices is { } configure) builder.ConfigureServices(configure);
        builder.UseSetting("Platform:Mqtt:EmbeddedPort", "0"); // no embedded MQTT broker: many hosts in one process would fight over port 1883
        foreach (var (key, value) in settings)
            if (value is not null) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning).AddProvider(new ServerErrorLog()));
    }
}
