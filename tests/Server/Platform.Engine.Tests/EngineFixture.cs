using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Tests;

/// <summary>A workflow engine with in-memory stores; each test builds its own.</summary>
public sealed class EngineFixture : IAsyncDisposable
{
    public EngineFixture(Action<IServiceCollection>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
        configure?.Invoke(services);
        Services = services.BuildServiceProvider();
    }

    public ServiceProvider Services { get; }
    public IWorkflowRuntime Runtime => Services.GetRequiredService<IWorkflowRuntime>();
    public IWorkflowDefinitionService Definitions => Services.GetRequiredService<IWorkflowDefinitionService>();
    public IActivityExecutionStore Journal => Services.GetRequiredService<IActivityExecutionStore>();

    public async Task<WorkflowDefinition> PublishAsync(FlowBuilder flow) =>
        (await Definitions.SaveAsync(flow.Build(), publish: true)).Definition;

    public async Task<RunWorkflowResult> RunAsync(FlowBuilder flow, IDictionary<string, object?>? input = null)
    {
        var d = await PublishAsync(flow);
        return await Runtime.StartAsync(new StartWorkflowRequest(d.DefinitionId) { Input = input ?? new Dictionary<string, object?>() });
    }

    public async Task<List<string>> ExecutedActivityIdsAsync(string instanceId) =>
        (await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = instanceId }, new PageArgs(0, 1000))).Items
        .Select(r => r.ActivityId).ToList();

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}

/// <summary>Builds Elsa 3 flowchart JSON the way the Studio saves it.</summary>
public sealed class FlowBuilder(string? definitionId = null, string name = "Test workflow")
{
    private readonly JsonArray _activities = [];
    private readonly JsonArray _connections = [];
    private readonly JsonArray _variables = [];
    private readonly JsonObject _options = [];

    /// <summary>Sets a workflow option (Elsa's <c>options</c>), e.g. <c>commitStrategyName</c>.</summary>
    public FlowBuilder Option(string name, string? value)
    {
        _options[name] = value;
        return this;
    }

    public FlowBuilder Activity(string id, string type, object? inputs = null)
    {
        var a = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        if (inputs is not null)
            foreach (var p in inputs.GetType().GetProperties())
            {
                var value = p.GetValue(inputs);
                a[char.ToLowerInvariant(p.Name[0]) + p.Name[1..]] = value switch
                {
                    Expr e => new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = e.Type, ["value"] = e.Value } },
                    JsonNode n => n,
                    _ => new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value?.ToString() } },
                };
            }
        _activities.Add(a);
        return this;
    }

    public FlowBuilder Connect(string source, string target, string port = "Done")
    {
        _connections.Add(new JsonObject
        {
            ["source"] = new JsonObject { ["activity"] = source, ["port"] = port },
            ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        });
        return this;
    }

    public FlowBuilder Variable(string name, string typeName = "Object", object? value = null, string? id = null)
    {
        _variables.Add(new JsonObject { ["id"] = id ?? name + "Id", ["name"] = name, ["typeName"] = typeName, ["value"] = JsonValue.Create(value) });
        return this;
    }

    public JsonObject Build() => new()
    {
        ["definitionId"] = definitionId, ["name"] = name, ["variables"] = _variables.DeepClone(), ["options"] = _options.DeepClone(),
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
            ["activities"] = _activities.DeepClone(), ["connections"] = _connections.DeepClone(),
        },
    };
}

/// <summary>An expression input for <see cref="FlowBuilder.Activity"/>.</summary>
public sealed record Expr(string Type, string Value)
{
    public static Expr Js(string code) => new("JavaScript", code);
    public static Expr Liquid(string template) => new("Liquid", template);
}
