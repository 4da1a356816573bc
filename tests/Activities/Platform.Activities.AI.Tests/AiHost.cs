using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Activities.Core;
using Platform.Activities.Messaging;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>An engine with the AI pack, in-memory stores and an intent set store in a temp directory; one per test.</summary>
public sealed class AiHost : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("ai-pack");

    public AiHost(IDictionary<string, string?>? settings = null, Action<IServiceCollection, IConfiguration, string>? configure = null)
    {
        var values = new Dictionary<string, string?> { ["Platform:AI:Embeddings:Enabled"] = "false" };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivitiesFrom<AiPack>().AddActivitiesFrom<MessagingPack>());
        services.AddSingleton<IConversationMemory, ConversationMemoryFromMessages>(); // what AddPlatformMessaging registers, over the engine's stores
        services.AddPlatformAi(configuration, _dir.Path);
        configure?.Invoke(services, configuration, _dir.Path);
        Services = services.BuildServiceProvider();
    }

    public ServiceProvider Services { get; }
    public string Directory => _dir.Path;
    public IIntentSetStore Store => Services.GetRequiredService<IIntentSetStore>();

    /// <summary>Saves a set and registers its activity type, as the API does.</summary>
    public async Task SaveAsync(IntentSet set)
    {
        var types = Services.GetRequiredService<IntentActivityTypes>();
        await types.SyncAsync();
        await Store.SaveAsync(set);
        await types.RefreshAsync(set.Id);
    }

    /// <summary>Saves and runs a one-activity workflow with the given variables; returns the activity's record and the instance.</summary>
    public async Task<(ActivityExecutionRecord Record, WorkflowInstance Instance)> RunAsync(string type, JsonObject inputs, params (string Name, string Type)[] variables)
    {
        await Services.GetRequiredService<IntentActivityTypes>().SyncAsync();
        var activity = new JsonObject { ["id"] = "a1", ["type"] = type, ["version"] = 1, ["name"] = "a1" };
        foreach (var (k, v) in inputs) activity[k] = v?.DeepClone();
        var vars = new JsonArray();
        foreach (var (name, typeName) in variables)
            vars.Add(new JsonObject { ["id"] = "var-" + name, ["name"] = name, ["typeName"] = typeName, ["value"] = null });
        var model = new JsonObject
        {
            ["name"] = "ai test",
            ["variables"] = vars,
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(activity), ["connections"] = new JsonArray(),
            },
        };
        var saved = await Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
        var run = await Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(saved.Definition.DefinitionId));
        var journal = await Services.GetRequiredService<IActivityExecutionStore>()
            .FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.Instance.Id }, new PageArgs(0, 100));
        return (journal.Items.Single(r => r.ActivityId == "a1"), run.Instance);
    }

    public static JsonObject Literal(object? value) => new()
    {
        ["typeName"] = "Object",
        ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value is null ? null : JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)) },
    };

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>Intent sets used by the tests.</summary>
public static class Sets
{
    public static IntentSet Assistant(string id = "assistant", int version = 1) => new()
    {
        Id = id,
        Name = "Home assistant",
        Version = version,
        Intents =
        [
            new IntentDefinition { Name = "device_on", Examples = ["turn on the kitchen light", "switch the fan on", "lights on please", "turn the heater on", "please switch on the lamp"] },
            new IntentDefinition { Name = "device_off", Examples = ["turn off the kitchen light", "switch the fan off", "lights off please", "turn the heater off", "please switch off the lamp"] },
            new IntentDefinition { Name = "orders_today", Examples = ["how many orders came in today", "show me today's orders", "orders today", "what did we sell today", "list the orders of today"] },
            new IntentDefinition { Name = "unlock_door", Examples = ["unlock the front door", "open the door lock", "let me in, unlock the door", "unlock the garage door", "please unlock the back door"] },
        ],
        Entities =
        [
            new IntentEntityDefinition
            {
                Name = "room", Kind = IntentEntityKinds.List,
                Values = [new IntentEntityValue { Value = "kitchen", Synonyms = ["cooking area"] }, new IntentEntityValue { Value = "living room", Synonyms = ["lounge"] }],
            },
            new IntentEntityDefinition { Name = "order_number", Kind = IntentEntityKinds.Regex, Pattern = @"\bORD-(?<value>\d{6})\b" },
        ],
    };
}
