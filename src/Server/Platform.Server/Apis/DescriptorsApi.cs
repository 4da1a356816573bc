using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;
using Platform.Server.Mapping;

namespace Platform.Server.Apis;

/// <summary>
/// What the Studio loads before it draws anything: activity descriptors (with placeholders for types that stored
/// definitions use but this server lacks), expression syntaxes, variable types, strategies and features.
/// </summary>
public static class DescriptorsApi
{
    /// <summary>The package version reported to the Studio (the Elsa API version we are compatible with).</summary>
    public const string CompatiblePackageVersion = "3.8.2";

    /// <summary>Maps the descriptor endpoints under /elsa/api.</summary>
    public static RouteGroupBuilder MapDescriptorsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapElsaApiGroup("Descriptors");

        api.MapGet("/descriptors/activities", ListActivitiesAsync).WithName("ListActivityDescriptors")
            .WithSummary("Activity descriptors, plus placeholders for activity types used by stored definitions but not installed.");
        api.MapGet("/descriptors/expression-descriptors", ListExpressionDescriptors);
        api.MapGet("/descriptors/variables", ListVariableTypes);
        api.MapGet("/descriptors/storage-drivers", () => TypedResults.Ok(new ItemsResponse<StorageDriverModel>(
            [new("Elsa.Workflows.WorkflowInstanceStorageDriver", "Workflow Instance", 0, false)])));
        api.MapGet("/descriptors/workflow-activation-strategies", () => TypedResults.Ok(new ListResponse<StrategyModel>(
            [new("Elsa.Workflows.ActivationStrategies.AllowAlways", "Always", "Always allow a new instance to be created.")])));
        api.MapGet("/descriptors/incident-strategies", () => TypedResults.Ok(new ListResponse<StrategyModel>(
            [new("Elsa.Workflows.IncidentStrategies.FaultStrategy", "Fault", "The workflow faults on the first incident.")])));
        api.MapGet("/descriptors/log-persistence-strategies", () => TypedResults.Ok(new ListResponse<StrategyModel>(
            [new("Elsa.Workflows.LogPersistence.Strategies.Include", "Include", "Inputs and outputs are stored in the journal.")])));
        // The Studio's workflow Properties tab shows these as "Commit Strategy"; the engine reads the choice as the workflow's persistence mode.
        api.MapGet("/descriptors/commit-strategies/workflows", () => TypedResults.Ok(new ListResponse<CommitStrategyModel>(
        [
            new(nameof(WorkflowPersistence.Full), "Persistence: Full", "Store the instance and its journal after every burst (default; HTTP Endpoint workflows default to OnFaultOnly)."),
            new(nameof(WorkflowPersistence.OnFaultOnly), "Persistence: On fault only", "A run that finishes in one burst is stored only when it faults. Runs that wait (bookmarks) are always stored."),
            new(nameof(WorkflowPersistence.None), "Persistence: None", "A run that finishes in one burst is never stored (faults are only logged). Runs that wait (bookmarks) are always stored."),
        ])));
        api.MapGet("/descriptors/commit-strategies/activities", () => TypedResults.Ok(new ListResponse<CommitStrategyModel>([])));
        api.MapGet("/descriptors/output-converters", () => TypedResults.Ok(new ItemsResponse<object>([])));
        api.MapGet("/features/installed", () => TypedResults.Ok(new ListResponse<object>([])));
        api.MapGet("/package/version", () => TypedResults.Ok(new PackageVersionModel(CompatiblePackageVersion)));
        api.MapGet("/workflow-contexts/provider-descriptors", () => TypedResults.Ok(new ListResponse<object>([])));
        return api;
    }

    /// <summary>All registered descriptors, plus a placeholder for every type a stored definition uses that is not registered.</summary>
    public static async Task<Ok<ListResponse<ActivityDescriptorModel>>> ListActivitiesAsync(
        ActivityRegistry registry, IWorkflowDefinitionStore definitions, IServiceProvider services, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Choices computed now (models, tools, knowledge bases), not once at start.
        foreach (var choices in services.GetServices<IDescriptorChoices>()) await choices.RefreshAsync(ct);
        var used = await CollectUsedTypesAsync(definitions, ct);
        var items = new List<ActivityDescriptorModel>();
        foreach (var d in registry.All.OrderBy(d => d.Category, StringComparer.Ordinal).ThenBy(d => d.DisplayName, StringComparer.Ordinal))
            items.Add(ActivityDescriptorMapper.Map(d));
        foreach (var (typeName, use) in used.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (registry.Find(typeName) is not null) continue;
            items.Add(ActivityDescriptorMapper.Map(ActivityRegistry.Placeholder(typeName, use.Version), use.Ports));
        }
        return TypedResults.Ok(new ListResponse<ActivityDescriptorModel>(items));
    }

    private static Ok<ListResponse<ExpressionDescriptorModel>> ListExpressionDescriptors()
    {
        static IReadOnlyDictionary<string, object?> Monaco(string language) => new Dictionary<string, object?> { ["MonacoLanguage"] = language };
        var none = new Dictionary<string, object?>();
        return TypedResults.Ok(new ListResponse<ExpressionDescriptorModel>(
        [
            new("Literal", "Literal", true, true, none),
            new("Object", "Object", true, false, none),
            new("Variable", "Variable", true, false, none),
            new("JavaScript", "JavaScript", true, true, Monaco("javascript")),
            new("Liquid", "Liquid", true, true, Monaco("liquid")),
        ]));
    }

    private static Ok<ItemsResponse<VariableDescriptorModel>> ListVariableTypes() =>
        TypedResults.Ok(new ItemsResponse<VariableDescriptorModel>(
            TypeAliases.VariableTypes.Select(t => new VariableDescriptorModel(t.Alias, t.Alias, t.Category, null)).ToList()));

    /// <summary>The activity types used by stored definitions (all versions), with their version and the ports their connections use.</summary>
    private static async Task<Dictionary<string, (int Version, HashSet<string> Ports)>> CollectUsedTypesAsync(
        IWorkflowDefinitionStore definitions, CancellationToken ct)
    {
        const int pageSize = 100;
        var used = new Dictionary<string, (int Version, HashSet<string> Ports)>(StringComparer.Ordinal);
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(skip, pageSize), ct);
            foreach (var d in page.Items) Collect(d.Root, used);
            if (page.Items.Count < pageSize || skip + pageSize >= page.TotalCount) break;
        }
        return used;
    }

    private static void Collect(JsonObject root, Dictionary<string, (int Version, HashSet<string> Ports)> used)
    {
        var typeById = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in DefinitionNormalizer.Activities(root))
        {
            if (a["type"] is not JsonValue tv || !tv.TryGetValue<string>(out var type) || string.IsNullOrEmpty(type)) continue;
            var version = a["version"] is JsonValue vv && vv.TryGetValue<int>(out var v) ? v : 1;
            if (!used.TryGetValue(type, out var entry)) used[type] = entry = (version, new HashSet<string>(StringComparer.Ordinal));
            else if (version > entry.Version) used[type] = entry = (version, entry.Ports);
            if (a["id"] is JsonValue iv && iv.TryGetValue<string>(out var id)) typeById[id] = type;
        }
        foreach (var (_, c) in DefinitionNormalizer.Connections(root))
        {
            if (c["source"] is not JsonObject source) continue;
            if (source["activity"] is JsonValue av && av.TryGetValue<string>(out var activityId) && typeById.TryGetValue(activityId, out var type)
                && source["port"] is JsonValue pv && pv.TryGetValue<string>(out var port) && !string.IsNullOrEmpty(port))
                used[type].Ports.Add(port);
        }
    }
}
