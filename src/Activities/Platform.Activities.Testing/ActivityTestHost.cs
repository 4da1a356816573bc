using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Models;

namespace Platform.Activities.Testing;

/// <summary>
/// Runs pack activities in memory on the platform's engine (in-memory stores, the real expression evaluators), so a pack's
/// tests need no server. Register fakes for the services your activities take from the context with
/// <see cref="ActivityTestHost(Action{IServiceCollection}?)"/>.
/// </summary>
/// <example><code>
/// await using var host = new ActivityTestHost(s => s.AddSingleton&lt;IWeatherClient&gt;(new FakeWeather(21.5)));
/// var result = await host.RunAsync&lt;GetTemperature&gt;(new() { ["City"] = "Oslo" });
/// Assert.Equal(["Done"], result.Outcomes);
/// Assert.Equal(21.5, result.Output&lt;double&gt;("Celsius"));
/// </code></example>
public sealed class ActivityTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private int _next;

    /// <summary>Creates the host.</summary>
    /// <param name="configureServices">Registers the services (fakes) your activities ask the context for.</param>
    public ActivityTestHost(Action<IServiceCollection>? configureServices = null)
    {
        var services = new ServiceCollection();
        services.AddWorkflowEngine();
        configureServices?.Invoke(services);
        _services = services.BuildServiceProvider();
    }

    /// <summary>The host's services (the engine and your fakes).</summary>
    public IServiceProvider Services => _services;

    /// <summary>Makes activity classes known (done for you by <see cref="RunAsync{TActivity}"/>).</summary>
    public ActivityTestHost Register(params Type[] activityTypes)
    {
        var registry = _services.GetRequiredService<ActivityRegistry>();
        foreach (var t in activityTypes) registry.Register(ActivityRegistry.Describe(t));
        return this;
    }

    /// <summary>Makes every activity of an assembly known, e.g. <c>typeof(MyActivity).Assembly</c>.</summary>
    public ActivityTestHost RegisterAssembly(System.Reflection.Assembly assembly)
    {
        _services.GetRequiredService<ActivityRegistry>().RegisterAssembly(assembly);
        return this;
    }

    /// <summary>Runs one activity with literal inputs (by property name) until it completes, suspends or faults.</summary>
    /// <param name="inputs">Input values by property name; use <see cref="JavaScript"/> or <see cref="Liquid"/> for expressions.</param>
    /// <param name="workflowInput">The workflow's input (what a trigger would pass).</param>
    public async Task<ActivityRunResult> RunAsync<TActivity>(IDictionary<string, object?>? inputs = null, IDictionary<string, object?>? workflowInput = null)
        where TActivity : Activity, new()
    {
        Register(typeof(TActivity));
        var descriptor = ActivityRegistry.Describe(typeof(TActivity));
        var activity = Node("activity1", descriptor.TypeName, descriptor.Version, inputs);
        var result = await RunFlowchartAsync(new JsonArray(activity), new JsonArray(), workflowInput).ConfigureAwait(false);
        return result;
    }

    /// <summary>An activity node for <see cref="RunFlowchartAsync"/>.</summary>
    public static JsonObject Node(string id, string typeName, int version = 1, IDictionary<string, object?>? inputs = null)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = typeName, ["version"] = version, ["name"] = id };
        foreach (var (name, value) in inputs ?? new Dictionary<string, object?>())
        {
            var key = char.ToLowerInvariant(name[0]) + name[1..];
            node[key] = value is TestExpression e
                ? new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = e.Type, ["value"] = e.Value } }
                : new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = JsonSerializer.SerializeToNode(value) } };
        }
        return node;
    }

    /// <summary>A connection from <paramref name="source"/>'s outcome to <paramref name="target"/>.</summary>
    public static JsonObject Connection(string source, string target, string outcome = Activity.DoneOutcome) => new()
    {
        ["source"] = new JsonObject { ["activity"] = source, ["port"] = outcome },
        ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
    };

    /// <summary>A JavaScript expression input.</summary>
    public static object JavaScript(string code) => new TestExpression("JavaScript", code);

    /// <summary>A Liquid expression input.</summary>
    public static object Liquid(string template) => new TestExpression("Liquid", template);

    /// <summary>Publishes and runs a small flowchart (nodes from <see cref="Node"/>, connections from <see cref="Connection"/>).</summary>
    public async Task<ActivityRunResult> RunFlowchartAsync(JsonArray activities, JsonArray connections, IDictionary<string, object?>? workflowInput = null)
    {
        ArgumentNullException.ThrowIfNull(activities);
        ArgumentNullException.ThrowIfNull(connections);
        var definitionId = $"test-{Interlocked.Increment(ref _next)}";
        var model = new JsonObject
        {
            ["definitionId"] = definitionId, ["name"] = definitionId,
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = ActivityRegistry.FlowchartTypeName, ["version"] = 1, ["activities"] = activities.DeepClone(), ["connections"] = connections.DeepClone() },
        };
        var definitions = _services.GetRequiredService<IWorkflowDefinitionService>();
        await definitions.SaveAsync(model, publish: true).ConfigureAwait(false);
        var run = await _services.GetRequiredService<IWorkflowRuntime>()
            .StartAsync(new StartWorkflowRequest(definitionId) { Input = workflowInput ?? new Dictionary<string, object?>() }).ConfigureAwait(false);
        return await ResultAsync(run).ConfigureAwait(false);
    }

    /// <summary>Resumes a suspended run at its (only, or named) bookmark with this input.</summary>
    public async Task<ActivityRunResult> ResumeAsync(ActivityRunResult suspended, IDictionary<string, object?>? input = null, string? bookmarkName = null)
    {
        ArgumentNullException.ThrowIfNull(suspended);
        var bookmark = suspended.Bookmarks.Single(b => bookmarkName is null || b.Name == bookmarkName);
        var run = await _services.GetRequiredService<IWorkflowRuntime>()
            .ResumeAsync(new ResumeWorkflowRequest(suspended.InstanceId, bookmark.Id) { Input = input ?? new Dictionary<string, object?>() }).ConfigureAwait(false);
        return await ResultAsync(run).ConfigureAwait(false);
    }

    private async Task<ActivityRunResult> ResultAsync(RunWorkflowResult run)
    {
        var journal = await _services.GetRequiredService<IActivityExecutionStore>()
            .FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId }, new PageArgs(0, 1000)).ConfigureAwait(false);
        var state = run.Instance.State;
        var last = journal.Items.OrderBy(r => r.Sequence).LastOrDefault(r => r.ActivityType != ActivityRegistry.FlowchartTypeName);
        return new ActivityRunResult(run.InstanceId, run.SubStatus.ToString(), last?.Outcomes.ToList() ?? [],
            state.ActivityOutputs.ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, object?>)p.Value),
            state.Output, state.Bookmarks.ToList(), state.Incidents.Select(i => i.Message).ToList(), journal.Items.Select(r => r.ActivityId).ToList());
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _services.DisposeAsync();

    private sealed record TestExpression(string Type, string Value);
}

/// <summary>How a test run ended.</summary>
/// <param name="InstanceId">The workflow instance id.</param>
/// <param name="Status"><c>Finished</c>, <c>Suspended</c>, <c>Faulted</c> or <c>Cancelled</c>.</param>
/// <param name="Outcomes">The outcomes the last activity completed with.</param>
/// <param name="ActivityOutputs">Outputs by activity id, then output name.</param>
/// <param name="WorkflowOutput">What activities set with <c>SetWorkflowOutput</c>.</param>
/// <param name="Bookmarks">Where the run waits, when suspended.</param>
/// <param name="Incidents">Fault messages.</param>
/// <param name="ExecutedActivityIds">The activities that ran, in order.</param>
public sealed record ActivityRunResult(string InstanceId, string Status, IReadOnlyList<string> Outcomes,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, object?>> ActivityOutputs, IReadOnlyDictionary<string, object?> WorkflowOutput,
    IReadOnlyList<Bookmark> Bookmarks, IReadOnlyList<string> Incidents, IReadOnlyList<string> ExecutedActivityIds)
{
    /// <summary>An output of the single activity run by <see cref="ActivityTestHost.RunAsync{TActivity}"/> (or of <paramref name="activityId"/>), converted to <typeparamref name="T"/>.</summary>
    public T? Output<T>(string name, string activityId = "activity1")
    {
        if (!ActivityOutputs.TryGetValue(activityId, out var outputs) || !outputs.TryGetValue(name, out var value) || value is null) return default;
        return value is T t ? t : JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value));
    }
}
