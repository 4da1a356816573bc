using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Configuration;
using Platform.Activities;
using Platform.Engine.Contracts;

namespace Platform.Packs;

/// <summary>
/// Hands the activities of an installed pack only what its <c>pack.json</c> permits: an <see cref="HttpClient"/> (and
/// <see cref="IHttpClientFactory"/>) that refuses hosts outside <c>permissions.network</c>, and <see cref="IPackSecrets"/>,
/// <see cref="IPackDataSources"/> and <see cref="IPackMqtt"/> limited to the declared names and topic patterns. A refused call
/// throws <see cref="PackPermissionException"/>, which the engine records as an incident. The host's raw MQTT connection,
/// data source store and configuration are not handed to packs. Built-in activities (not loaded from a pack) are not gated.
/// </summary>
/// <remarks>
/// This limits what a pack gets through the context; in <c>shared</c> isolation a pack's code still runs with the server's
/// rights and could, for example, create its own socket. Install only packs you trust.
/// </remarks>
public sealed class PackServiceGate : IActivityServiceGate
{
    private static readonly HashSet<string> Withheld = new(StringComparer.Ordinal)
    {
        "Platform.Mqtt.IMqttConnection", "Platform.Activities.Data.IDataSourceStore", typeof(IConfiguration).FullName!,
        typeof(IConfigurationRoot).FullName!,
    };

    private readonly ConditionalWeakTable<PackLoadContext, PackHttp> _http = new();

    /// <inheritdoc />
    public bool TryGetService(Activity activity, Type serviceType, IServiceProvider services, out object? service)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(serviceType);
        ArgumentNullException.ThrowIfNull(services);
        service = null;
        if (AssemblyLoadContext.GetLoadContext(activity.GetType().Assembly) is not PackLoadContext pack) return false;
        if (serviceType == typeof(HttpClient)) service = _http.GetValue(pack, p => new PackHttp(p.PackId, p.Permissions)).CreateClient();
        else if (serviceType == typeof(IHttpClientFactory)) service = _http.GetValue(pack, p => new PackHttp(p.PackId, p.Permissions));
        else if (serviceType == typeof(IPackSecrets)) service = new GatedSecrets(pack.PackId, pack.Permissions.Secrets, services.GetService(typeof(IPackSecrets)) as IPackSecrets);
        else if (serviceType == typeof(IPackDataSources)) service = new GatedDataSources(pack.PackId, pack.Permissions.DataSources, services.GetService(typeof(IPackDataSources)) as IPackDataSources);
        else if (serviceType == typeof(IPackMqtt)) service = new GatedMqtt(pack.PackId, pack.Permissions.Mqtt, services.GetService(typeof(IPackMqtt)) as IPackMqtt);
        else if (serviceType.FullName is { } name && Withheld.Contains(name))
            throw new ActivityFaultException(FaultCodes.Permission,
                $"The pack '{pack.PackId}' asked for {serviceType.Name}, which packs do not get. Use the context's HttpClient, IPackSecrets, IPackDataSources " +
                "or IPackMqtt and declare what the pack reaches in pack.json's permissions.", nonRetryable: true);
        else return false;
        return true;
    }

    /// <summary>
    /// True when the MQTT topic filter <paramref name="filter"/> (or a plain topic) only covers topics that the pattern
    /// <paramref name="pattern"/> matches (<c>+</c> one level, <c>#</c> the rest).
    /// </summary>
    public static bool Covers(string pattern, string filter)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(filter);
        var p = pattern.Split('/');
        var f = filter.Split('/');
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == "#") return true;
            if (i >= f.Length) return false;
            if (f[i] == "#") return false;
            if (p[i] == "+") continue;
            if (f[i] == "+" || !string.Equals(p[i], f[i], StringComparison.Ordinal)) return false;
        }
        return f.Length == p.Length;
    }

    private static bool Declared(IReadOnlyList<string> list, string name) => list.Any(n => string.Equals(n.Trim(), name, StringComparison.OrdinalIgnoreCase));

    /// <summary>One per loaded pack version: a handler that checks every request's host against the declared network hosts.</summary>
    private sealed class PackHttp(string packId, PackPermissions permissions) : IHttpClientFactory
    {
        // Redirects are not followed: the check runs once per request, and a redirect could lead to an undeclared host.
        private readonly HttpMessageHandler _handler = new Checker(packId, permissions)
        {
            InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) },
        };

        public HttpClient CreateClient() => new(_handler, disposeHandler: false);

        public HttpClient CreateClient(string name) => CreateClient();
    }

    private sealed class Checker(string packId, PackPermissions permissions) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri;
            if (uri is null || !uri.IsAbsoluteUri)
                throw new ActivityFaultException(FaultCodes.Http, $"The pack '{packId}' sent a request without an absolute URL. Give the full URL, e.g. https://api.example.com/.", nonRetryable: true);
            if (!permissions.AllowsHost(uri.IdnHost, uri.Port))
                throw new PackPermissionException(packId, "network", uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}", $"connect to {uri.IdnHost}:{uri.Port}");
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class GatedSecrets(string packId, IReadOnlyList<string> declared, IPackSecrets? inner) : IPackSecrets
    {
        public ValueTask<string> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(name) || !Declared(declared, name)) throw new PackPermissionException(packId, "secrets", name ?? "", $"read the secret '{name}'");
            return (inner ?? throw NotOffered(packId, "secrets")).GetAsync(name, cancellationToken);
        }
    }

    private sealed class GatedDataSources(string packId, IReadOnlyList<string> declared, IPackDataSources? inner) : IPackDataSources
    {
        public ValueTask<DbConnection> OpenAsync(string name, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(name) || !Declared(declared, name)) throw new PackPermissionException(packId, "dataSources", name ?? "", $"open the data source '{name}'");
            return (inner ?? throw NotOffered(packId, "data sources")).OpenAsync(name, cancellationToken);
        }
    }

    private sealed class GatedMqtt(string packId, IReadOnlyList<string> declared, IPackMqtt? inner) : IPackMqtt
    {
        public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain = false, CancellationToken cancellationToken = default)
        {
            Check(topic, "publish to");
            return (inner ?? throw NotOffered(packId, "MQTT")).PublishAsync(topic, payload, retain, cancellationToken);
        }

        public Task<IAsyncDisposable> SubscribeAsync(string filter, Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
        {
            Check(filter, "subscribe to");
            return (inner ?? throw NotOffered(packId, "MQTT")).SubscribeAsync(filter, handler, cancellationToken);
        }

        private void Check(string topic, string verb)
        {
            if (string.IsNullOrEmpty(topic) || !declared.Any(p => Covers(p.Trim(), topic)))
                throw new PackPermissionException(packId, "mqtt", topic ?? "", $"{verb} the MQTT topic '{topic}'");
        }
    }

    private static ActivityFaultException NotOffered(string packId, string what) =>
        new(FaultCodes.Configuration, $"This server offers no {what} to packs, so the pack '{packId}' cannot use them. Ask the administrator to configure {what}.", nonRetryable: true);
}

/// <summary>
/// The host's <see cref="IPackSecrets"/>: secrets are configured as <c>Platform:Packs:Secrets:{name}</c> (environment variable
/// <c>Platform__Packs__Secrets__{name}</c>). Packs read only the names they declare (<see cref="PackServiceGate"/>).
/// </summary>
public sealed class ConfigurationPackSecrets(IConfiguration configuration) : IPackSecrets
{
    /// <summary>The configuration section of pack secrets.</summary>
    public const string Section = "Platform:Packs:Secrets";

    /// <inheritdoc />
    public ValueTask<string> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return configuration[$"{Section}:{name}"] is { Length: > 0 } value
            ? ValueTask.FromResult(value)
            : throw new ActivityFaultException(FaultCodes.Configuration,
                $"The secret '{name}' is not configured. Set {Section}:{name} (environment variable Platform__Packs__Secrets__{name}) on every node.", nonRetryable: true);
    }
}
