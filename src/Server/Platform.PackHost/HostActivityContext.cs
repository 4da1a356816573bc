using Stopwatch = System.Diagnostics.Stopwatch;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Platform.Activities;

namespace Platform.PackHost;

/// <summary>
/// The context of one call in the pack host: the inputs the server evaluated, and what the activity does (outcomes, outputs,
/// variables, journal data, log lines) collected for the <c>done</c> frame. Secrets, variables, expressions, MQTT publishing and
/// outbox messages are asked of the server; HTTP is made here through a client limited to the declared hosts. Bookmarks
/// (waiting) are refused.
/// </summary>
internal sealed class HostActivityContext : ActivityExecutionContext
{
    private readonly PackHostRuntime _host;
    private readonly HostMessage _call;
    private readonly Dictionary<Input, object?> _inputs = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly HostMessage _result = new();
    private readonly CollectingLogger _logger = new();
    private string? _correlationId;

    public HostActivityContext(PackHostRuntime host, Activity activity, HostMessage call, CancellationToken cancellationToken)
    {
        _host = host;
        _call = call;
        Activity = activity;
        CancellationToken = cancellationToken;
        _correlationId = call.CorrelationId;
        WorkflowInput = (call.WorkflowInput ?? new Dictionary<string, object?>()).ToDictionary(p => p.Key, p => HostFrames.Plain(p.Value));
        Properties = (call.Properties ?? new Dictionary<string, object?>()).ToDictionary(p => p.Key, p => HostFrames.Plain(p.Value));
    }

    public override Activity Activity { get; }
    public override string ActivityInstanceId => _call.ActivityInstanceId ?? "";
    public override string WorkflowInstanceId => _call.WorkflowInstanceId ?? "";
    public override string DefinitionId => _call.DefinitionId ?? "";

    public override string? CorrelationId
    {
        get => _correlationId;
        set
        {
            _correlationId = value;
            _result.CorrelationChanged = true;
        }
    }

    public override CancellationToken CancellationToken { get; }
    public override DateTimeOffset UtcNow => _call.UtcNow + Stopwatch.GetElapsedTime(_started);
    public override IReadOnlyDictionary<string, object?> WorkflowInput { get; }
    public override bool IsTriggerOfWorkflow => _call.IsTrigger;
    public override IReadOnlyDictionary<string, object?> ResumeInput { get; } = new Dictionary<string, object?>();
    public override Bookmark? ResumedBookmark => null;
    public override IDictionary<string, object?> Properties { get; }
    public override ILogger Logger => _logger;

    /// <summary>Sets the activity's input properties from the evaluated values.</summary>
    public void ApplyInputs(Dictionary<string, object?>? values)
    {
        foreach (var p in Activity.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (values is null || !values.TryGetValue(p.Name, out var value)) continue;
            var pt = p.PropertyType;
            try
            {
                if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Input<>))
                {
                    var input = (Input)Activator.CreateInstance(pt, Expression.Literal(null))!;
                    p.SetValue(Activity, input);
                    _inputs[input] = HostFrames.ConvertTo(value, input.ValueType);
                }
                else if (p.CanWrite && p.GetCustomAttribute<InputAttribute>() is not null)
                    p.SetValue(Activity, HostFrames.ConvertTo(value, pt));
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
            {
                throw new ActivityFaultException(FaultCodes.InputConversion,
                    $"Input '{p.Name}' of '{Activity.Type}' could not be passed to the pack host: {e.Message}. Use a value that converts to {pt.Name}.", nonRetryable: true, e);
            }
        }
    }

    /// <summary>What the call did, for the <c>done</c> frame.</summary>
    public HostMessage Result()
    {
        if (_result.CorrelationChanged) _result.CorrelationId = _correlationId;
        _result.Properties = new Dictionary<string, object?>(Properties);
        if (_logger.Lines.Count > 0) _result.Logs = _logger.Lines;
        return _result;
    }

    public override object? GetService(Type serviceType)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceType == typeof(HttpClient)) return HostHttp.Client(_host.PackId, _host.Network);
        if (serviceType == typeof(IHttpClientFactory)) return HostHttp.Factory(_host.PackId, _host.Network);
        if (serviceType == typeof(IPackSecrets)) return new Secrets(this);
        if (serviceType == typeof(IPackMqtt)) return new Mqtt(this);
        if (serviceType == typeof(ILogger)) return _logger;
        if (serviceType == typeof(TimeProvider)) return TimeProvider.System;
        throw new ActivityFaultException(FaultCodes.Configuration,
            $"The pack '{_host.PackId}' runs with isolation 'process', where {serviceType.Name} is not available. A pack host offers HttpClient and " +
            "IHttpClientFactory (declared hosts), IPackSecrets and IPackMqtt.PublishAsync; data sources, MQTT subscriptions and the server's own " +
            "services are not. Use those, or set isolation to shared in pack.json if you trust the pack.", nonRetryable: true);
    }

    public override T? Get<T>(Input<T> input) where T : default
    {
        if (input is null) return default;
        if (_inputs.TryGetValue(input, out var v)) return (T?)v;
        return (T?)HostFrames.ConvertTo(input.Expression.Value, typeof(T));
    }

    public override async ValueTask<object?> EvaluateAsync(Expression expression, Type? targetType = null)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var value = await _host.ServiceAsync(_call.Id, "evaluate", expression.Value, expression.Type, cancellationToken: CancellationToken).ConfigureAwait(false);
        return HostFrames.ConvertTo(value, targetType ?? typeof(object));
    }

    public override void SetOutput(object output, object? value)
    {
        ArgumentNullException.ThrowIfNull(output);
        var property = Activity.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(p =>
                p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() == typeof(Output<>) && ReferenceEquals(p.GetValue(Activity), output))
            ?? throw new InvalidOperationException("Output.Set was called with an output that is not a property of this activity.");
        (_result.Outputs ??= new Dictionary<string, object?>())[property.Name] = value;
    }

    public override object? GetVariable(string name)
    {
        if (_variables.TryGetValue(name, out var known)) return known;
        var value = HostFrames.Plain(_host.ServiceAsync(_call.Id, "variable", name, cancellationToken: CancellationToken).GetAwaiter().GetResult());
        _variables[name] = value;
        return value;
    }

    public override T? GetVariable<T>(string name) where T : default => (T?)HostFrames.ConvertTo(GetVariable(name), typeof(T));

    public override void SetVariable(string name, object? value)
    {
        _variables[name] = value;
        (_result.Variables ??= []).Add(new KeyValuePair<string, object?>(name, value));
    }

    public override void SetWorkflowOutput(string name, object? value) => (_result.WorkflowOutput ??= new Dictionary<string, object?>())[name] = value;

    public override void Complete(params string[] outcomes) =>
        (_result.Outcomes ??= []).AddRange(outcomes is null || outcomes.Length == 0 ? [Activity.DoneOutcome] : outcomes);

    public override Bookmark CreateBookmark(BookmarkRequest request) =>
        throw new ActivityFaultException(FaultCodes.Configuration,
            $"Activity '{Activity.Type}' waits for an event (a bookmark), which a pack with isolation 'process' cannot do. " +
            "Set isolation to shared in pack.json for this pack, or make the activity finish without waiting.", nonRetryable: true);

    public override void AddJournalData(string key, object? value) => (_result.Journal ??= new Dictionary<string, object?>())[key] = value;

    public override string AddOutboxMessage(OutboxMessageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _host.ServiceAsync(_call.Id, "outbox", request.Payload, request.Channel, request.ConversationKey, CancellationToken).GetAwaiter().GetResult()?.ToString() ?? "";
    }

    private sealed class Secrets(HostActivityContext context) : IPackSecrets
    {
        public async ValueTask<string> GetAsync(string name, CancellationToken cancellationToken = default) =>
            HostFrames.Plain(await context._host.ServiceAsync(context._call.Id, "secret", name, cancellationToken: cancellationToken).ConfigureAwait(false))?.ToString() ?? "";
    }

    private sealed class Mqtt(HostActivityContext context) : IPackMqtt
    {
        public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain = false, CancellationToken cancellationToken = default) =>
            context._host.ServiceAsync(context._call.Id, "publish", topic, Convert.ToBase64String(payload.Span), retain ? "true" : null, cancellationToken);

        public Task<IAsyncDisposable> SubscribeAsync(string filter, Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> handler, CancellationToken cancellationToken = default) =>
            throw new ActivityFaultException(FaultCodes.Configuration,
                $"The pack '{context._host.PackId}' runs with isolation 'process', where MQTT subscriptions are not available (publishing is). " +
                "Use a Message Received trigger on an MQTT channel in the workflow instead, or set isolation to shared if you trust the pack.", nonRetryable: true);
    }

    private sealed class CollectingLogger : ILogger
    {
        public List<HostLog> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            var text = formatter(state, exception);
            if (exception is not null) text += $" ({exception.GetType().Name}: {exception.Message})";
            lock (Lines)
                if (Lines.Count < 100) Lines.Add(new HostLog((int)logLevel, text));
        }
    }
}

/// <summary>HTTP in the pack host: a client that refuses hosts outside the pack's declared network hosts, redirects not followed.</summary>
internal static class HostHttp
{
    private static HttpMessageHandler? _handler;
    private static ClientFactory? _factory;

    public static HttpClient Client(string packId, IReadOnlyList<string> network) => new(Handler(packId, network), disposeHandler: false);

    public static IHttpClientFactory Factory(string packId, IReadOnlyList<string> network) => _factory ??= new ClientFactory(packId, network);

    private static HttpMessageHandler Handler(string packId, IReadOnlyList<string> network) =>
        _handler ??= new Checker(packId, network) { InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) } };

    private sealed class ClientFactory(string packId, IReadOnlyList<string> network) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => Client(packId, network);
    }

    private sealed class Checker(string packId, IReadOnlyList<string> network) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri;
            if (uri is null || !uri.IsAbsoluteUri)
                throw new ActivityFaultException(FaultCodes.Http, $"The pack '{packId}' sent a request without an absolute URL. Give the full URL, e.g. https://api.example.com/.", nonRetryable: true);
            if (!NetworkPermission.Allows(network, uri.IdnHost, uri.Port))
                throw new PackPermissionException(packId, "network", uri.IsDefaultPort ? uri.IdnHost : $"{uri.IdnHost}:{uri.Port}", $"connect to {uri.IdnHost}:{uri.Port}");
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>
/// The rule of a pack's <c>network</c> permission, one for the server (<c>PackManifest.AllowsHost</c>) and the pack host:
/// an entry is a host name (<c>api.example.com</c>) or a domain wildcard (<c>*.example.com</c>), optionally with <c>:port</c>.
/// </summary>
public static class NetworkPermission
{
    /// <summary>True when <paramref name="host"/> on <paramref name="port"/> is declared in <paramref name="network"/>.</summary>
    public static bool Allows(IReadOnlyList<string> network, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(host);
        foreach (var entry in network)
        {
            var e = entry.Trim().ToLowerInvariant();
            var colon = e.LastIndexOf(':');
            if (colon > 0 && int.TryParse(e[(colon + 1)..], out var p))
            {
                if (p != port) continue;
                e = e[..colon];
            }
            var h = host.ToLowerInvariant();
            if (e == h || (e.StartsWith("*.", StringComparison.Ordinal) && h.EndsWith(e[1..], StringComparison.Ordinal))) return true;
        }
        return false;
    }
}
