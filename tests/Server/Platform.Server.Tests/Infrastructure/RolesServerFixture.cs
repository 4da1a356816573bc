using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Testing;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>
/// A server (SQLite) with one configured key per role, a lockout of 3 unknown keys, a fast configuration refresh, and a test
/// header <see cref="ClientIpHeader"/> that sets the request's client address (the in-memory server has none).
/// </summary>
public sealed class RolesServerFixture : IAsyncLifetime
{
    /// <summary>The header the test startup filter turns into <c>Connection.RemoteIpAddress</c>.</summary>
    public const string ClientIpHeader = "X-Test-Client-Ip";

    /// <summary>The configured Viewer key.</summary>
    public const string ViewerKey = "test-viewer-key-0123456789abcdef";

    /// <summary>The configured Designer key.</summary>
    public const string DesignerKey = "test-designer-key-0123456789abcdef";

    /// <summary>Unknown keys from one address before it is locked out.</summary>
    public const int MaxFailures = 3;

    private readonly TempDirectory _data = new("platform-roles");

    /// <summary>The server's settings (a second node on the same data directory uses them too).</summary>
    public Dictionary<string, string?> Settings { get; private set; } = null!;

    /// <summary>The server.</summary>
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    /// <summary>The configured key of each role (null: none).</summary>
    public static IReadOnlyDictionary<string, string?> KeyOfRole { get; } = new Dictionary<string, string?>
    {
        ["none"] = null, ["Viewer"] = ViewerKey, ["Operator"] = PlatformServerFactory.OperatorKey, ["Designer"] = DesignerKey, ["Admin"] = PlatformServerFactory.AdminKey,
    };

    /// <summary>Starts another server with these settings (another node on the same database), with the client address header.</summary>
    public static WebApplicationFactory<Program> Start(IReadOnlyDictionary<string, string?> settings) =>
        new PlatformServerFactory(settings).WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientIpFilter>()));

    /// <summary>A client that sends the key (none when null) and, when given, the client address.</summary>
    public HttpClient Client(string? key, string? clientIp = null) => Client(Factory, key, clientIp);

    /// <summary>A client of <paramref name="factory"/> that sends the key (none when null) and, when given, the client address.</summary>
    public static HttpClient Client(WebApplicationFactory<Program> factory, string? key, string? clientIp = null)
    {
        var client = factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        if (clientIp is not null) client.DefaultRequestHeaders.Add(ClientIpHeader, clientIp);
        return client;
    }

    /// <inheritdoc />
    public ValueTask InitializeAsync()
    {
        Settings = PlatformServerFactory.WithKeys(_data.Path);
        Settings["Platform:ApiKeys:2:Key"] = ViewerKey;
        Settings["Platform:ApiKeys:2:Name"] = "tests-viewer";
        Settings["Platform:ApiKeys:2:Role"] = "Viewer";
        Settings["Platform:ApiKeys:3:Key"] = DesignerKey;
        Settings["Platform:ApiKeys:3:Name"] = "tests-designer";
        Settings["Platform:ApiKeys:3:Role"] = "designer";
        Settings["Platform:Security:Lockout:MaxFailures"] = MaxFailures.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["Platform:Security:Lockout:Duration"] = "00:10:00";
        Settings["Platform:ConfigurationRefreshInterval"] = "0.2";
        Settings["Platform:Security:ReadOnlyOperatorKeys"] = "false"; // the configured Operator key is a real Operator
        Factory = Start(Settings);
        Factory.CreateClient().Dispose(); // starts the server
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Factory is not null) await Factory.DisposeAsync();
        _data.Dispose();
    }

    private sealed class ClientIpFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[ClientIpHeader].ToString(), out var ip)) context.Connection.RemoteIpAddress = ip;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
