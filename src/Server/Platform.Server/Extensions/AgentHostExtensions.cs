using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities;
using Platform.Activities.AI;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Models;

namespace Platform.Server.Extensions;

/// <summary>
/// The AI agent's host services: the named model endpoints (<see cref="ModelCatalog"/>), workflows usable as a tool
/// (<see cref="WorkflowAgentTools"/>) and the Studio's choices of the Model and Tools inputs (<see cref="AgentActivityChoices"/>).
/// </summary>
public static class AgentHostExtensions
{
    /// <summary>Registers the model catalog, the workflow tools and the choices refresher.</summary>
    /// <exception cref="InvalidOperationException">The model configuration is not valid; the message says how to fix it.</exception>
    public static IServiceCollection AddPlatformAgent(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var models = ReadModels(configuration);
        _ = new ModelCatalog(models); // validate at start: a bad endpoint or fallback stops the host with a clear message
        services.TryAddSingleton(sp => new ModelCatalog(models, sp.GetService<ILogger<ModelCatalog>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAgentToolSource, WorkflowAgentTools>());
        services.TryAddSingleton<IAgentConversationMemory, AgentConversationMemory>();
        services.TryAddSingleton<AgentActivityChoices>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDescriptorChoices, AgentActivityChoices>(sp => sp.GetRequiredService<AgentActivityChoices>()));
        services.AddHostedService(sp => sp.GetRequiredService<AgentActivityChoices>());
        return services;
    }

    /// <summary>Reads <c>Platform:AI:Models</c> and <c>Platform:AI:ChatCompletion</c> (as <c>default</c> unless <c>Models:default</c> exists).</summary>
    public static IReadOnlyDictionary<string, ModelEndpointOptions> ReadModels(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var models = new Dictionary<string, ModelEndpointOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in configuration.GetSection(ModelCatalog.SectionName).GetChildren())
        {
            var options = new ModelEndpointOptions();
            section.Bind(options);
            options.Kind = string.IsNullOrWhiteSpace(options.Kind) ? ModelKinds.Chat : options.Kind.Trim().ToLowerInvariant();
            models[section.Key] = options;
        }
        if (!models.ContainsKey(ModelCatalog.DefaultName))
        {
            var chat = new ChatCompletionOptions();
            configuration.GetSection(ChatCompletionOptions.SectionName).Bind(chat);
            if (chat.IsConfigured)
                models[ModelCatalog.DefaultName] = new ModelEndpointOptions
                {
                    Endpoint = chat.Endpoint, Model = chat.Model, ApiKey = chat.ApiKey, Timeout = chat.Timeout, Temperature = chat.Temperature,
                    Retries = configuration.GetValue($"{ChatCompletionOptions.SectionName}:Retries", 2),
                    Fallback = configuration[$"{ChatCompletionOptions.SectionName}:Fallback"],
                };
        }
        return models;
    }
}

/// <summary>
/// Published workflows usable as a tool: those an analyst marked <b>Usable as activity</b> in the Studio's workflow Properties
/// tab (<c>options.usableAsActivity: true</c>), or with the custom property <c>usableAsTool: true</c> (API). Each is the tool
/// <c>workflow_{name}</c>, described by the workflow's description, with the workflow's declared inputs as arguments; a call
/// runs the workflow as a sub-workflow (<see cref="IWorkflowInvoker"/>) and returns its outputs.
/// </summary>
public sealed partial class WorkflowAgentTools(IWorkflowDefinitionStore definitions) : IAgentToolSource
{
    /// <summary>The custom property that marks a workflow usable as a tool.</summary>
    public const string UsableAsToolProperty = "usableAsTool";

    /// <inheritdoc />
    public async Task<IReadOnlyList<IAgentTool>> GetToolsAsync(CancellationToken cancellationToken)
    {
        var page = await definitions.FindManyAsync(new WorkflowDefinitionFilter { VersionOptions = VersionOptions.Published }, new PageArgs(0, 1000), cancellationToken);
        return page.Items.Where(IsTool).Select(d => (IAgentTool)new WorkflowTool(d)).ToList();
    }

    /// <summary>The workflow option the Studio's "Usable as activity" check box sets.</summary>
    public const string UsableAsActivityOption = "usableAsActivity";

    /// <summary>True when the definition is marked usable as a tool (the Studio's "Usable as activity", or the custom property).</summary>
    public static bool IsTool(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return IsTrue(definition.Options[UsableAsActivityOption]) || IsTrue(definition.CustomProperties[UsableAsToolProperty]);
    }

    private static bool IsTrue(JsonNode? node) => node is JsonValue v
        && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var s) && bool.TryParse(s, out var p) && p);

    /// <summary>The tool name of a workflow: <c>workflow_</c> and its name (or id) in lower case, other characters as <c>_</c>.</summary>
    public static string ToolNameOf(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var name = NotAllowed().Replace((definition.Name ?? definition.DefinitionId).Trim().ToLowerInvariant(), "_").Trim('_');
        var tool = "workflow_" + (name.Length == 0 ? definition.DefinitionId : name);
        return tool.Length <= 64 ? tool : tool[..64];
    }

    [GeneratedRegex("[^a-z0-9_-]+")]
    private static partial Regex NotAllowed();

    private sealed class WorkflowTool(WorkflowDefinition definition) : IAgentTool
    {
        public string Name { get; } = ToolNameOf(definition);

        public string Description => string.IsNullOrWhiteSpace(definition.Description) ? $"Runs the workflow '{definition.Name ?? definition.DefinitionId}'." : definition.Description!;

        public JsonElement ParametersSchema { get; } = Schema(definition);

        public async Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context)
        {
            var input = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (arguments.ValueKind == JsonValueKind.Object)
                foreach (var p in arguments.EnumerateObject()) input[p.Name] = AgentToolSchema.Value(arguments, p.Name);
            var invoker = context.GetRequiredService<IWorkflowInvoker>();
            var result = await invoker.InvokeAsync(new WorkflowInvocationRequest(definition.DefinitionId)
            {
                Input = input, CorrelationId = context.CorrelationId, ParentInstanceId = context.WorkflowInstanceId,
            }, context.CancellationToken);
            return result.SubStatus switch
            {
                "Finished" => AgentToolResult.Json(new Dictionary<string, object?> { ["output"] = result.Output, ["instanceId"] = result.InstanceId }),
                "Suspended" => AgentToolResult.Error($"The workflow waits for something (instance {result.InstanceId}); a tool workflow must finish without waiting."),
                _ => AgentToolResult.Error($"The workflow ended {result.SubStatus}: {result.Error}"),
            };
        }

        private static JsonElement Schema(WorkflowDefinition d)
        {
            var properties = new Dictionary<string, object>();
            var required = new List<string>();
            foreach (var node in d.Inputs.OfType<JsonObject>())
            {
                var name = node["name"]?.ToString();
                if (string.IsNullOrWhiteSpace(name)) continue;
                var type = (node["type"] ?? node["typeName"])?.ToString() ?? "String";
                var description = node["description"]?.ToString() is { Length: > 0 } text ? text : node["displayName"]?.ToString() ?? name;
                properties[name] = new Dictionary<string, object> { ["type"] = JsonType(type), ["description"] = description };
                if (node["isRequired"] is JsonValue r && r.TryGetValue<bool>(out var isRequired) && isRequired) required.Add(name);
            }
            return JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["type"] = "object", ["properties"] = properties, ["required"] = required });
        }

        private static string JsonType(string type) => type.Split('.').Last().ToLowerInvariant() switch
        {
            "int32" or "int64" or "int16" or "long" or "int" => "integer",
            "double" or "single" or "decimal" or "float" or "number" => "number",
            "boolean" or "bool" => "boolean",
            _ => "string",
        };
    }
}

/// <summary>
/// The tool results of earlier agent runs in a conversation, read from the conversation's stored workflow instances (their
/// correlation id is the conversation key; the agent keeps its results in the instance property
/// <see cref="AiAgent.MemoryPropertyPrefix"/> + key). Instances not stored (persistence <c>None</c>, or removed by retention)
/// are not remembered.
/// </summary>
public sealed class AgentConversationMemory(IWorkflowInstanceStore instances) : IAgentConversationMemory
{
    /// <summary>How many of the conversation's newest instances are read.</summary>
    public const int InstancesRead = 20;

    /// <inheritdoc />
    public async Task<IReadOnlyList<RememberedToolResult>> GetToolResultsAsync(string conversationKey, string? exceptInstanceId, int count, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(conversationKey);
        if (count <= 0) return [];
        var page = await instances.FindManyAsync(new WorkflowInstanceFilter { CorrelationId = conversationKey }, new PageArgs(0, InstancesRead),
            InstanceOrderBy.CreatedAt, descending: true, cancellationToken);
        var key = AiAgent.MemoryKeyOf(conversationKey);
        var results = new List<RememberedToolResult>();
        foreach (var instance in page.Items.Where(i => i.Id != exceptInstanceId).OrderBy(i => i.CreatedAt))
            if (instance.State.Properties.TryGetValue(key, out var value)) results.AddRange(AiAgent.ReadRemembered(value));
        return results.TakeLast(count).ToList();
    }
}

/// <summary>
/// Fills the Studio's choices of the AI activities when the descriptors are requested: the Model drop-down of AI Agent and Ask
/// Model lists the configured chat models; the Tools checklist of AI Agent the available tools (built-in ones, retrieve when a
/// knowledge base service is registered, and the published workflows usable as a tool); the KnowledgeBase drop-downs of Retrieve
/// and AI Agent the existing knowledge bases. A new knowledge base or tool workflow appears after a reload of the designer.
/// A descriptor is registered again only when its choices changed.
/// </summary>
public sealed class AgentActivityChoices(ActivityRegistry registry, ModelCatalog catalog, IServiceProvider services, ILogger<AgentActivityChoices> logger)
    : IHostedService, IDescriptorChoices
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => RefreshAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Re-registers the descriptors whose models, tools or knowledge bases changed.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var models = catalog.ChatNames.Contains(ModelCatalog.DefaultName, StringComparer.OrdinalIgnoreCase)
                ? catalog.ChatNames : [ModelCatalog.DefaultName, .. catalog.ChatNames];
            var tools = services.GetServices<IAgentTool>().Select(t => t.Name).ToList();
            if (services.GetService<IKnowledgeSearch>() is not null) tools.Add(BuiltInTools.Retrieve);
            foreach (var source in services.GetServices<IAgentToolSource>())
                tools.AddRange((await source.GetToolsAsync(cancellationToken)).Select(t => t.Name));
            tools = tools.Distinct(StringComparer.Ordinal).ToList();
            List<string>? bases = null;
            if (services.GetService<Platform.Engine.Knowledge.IKnowledgeStore>() is { } knowledge)
                bases = (await knowledge.ListBasesAsync(cancellationToken)).Select(b => b.Name).ToList();
            foreach (var type in new[] { "Platform.AiAgent", "Platform.AskModel", "Platform.Retrieve" })
            {
                if (registry.Find(type) is not { } descriptor) continue;
                var inputs = descriptor.Inputs.Select(i => (type, i.Name) switch
                {
                    ("Platform.AiAgent" or "Platform.AskModel", nameof(AiAgent.Model)) => With(i, models),
                    ("Platform.AiAgent", nameof(AiAgent.Tools)) => With(i, tools),
                    // The agent's knowledge base may stay empty (the model names one); Retrieve needs one.
                    ("Platform.AiAgent", nameof(AiAgent.KnowledgeBase)) when bases is not null => With(i, ["", .. bases], UIHints.DropDown),
                    ("Platform.Retrieve", nameof(Retrieve.KnowledgeBase)) when bases is not null => With(i, bases, UIHints.DropDown),
                    _ => i,
                }).ToList();
                if (inputs.SequenceEqual(descriptor.Inputs)) continue;
                registry.Register(descriptor with { Inputs = inputs });
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException and not OperationCanceledException)
        {
            logger.LogWarning(e, "The Model, Tools and KnowledgeBase choices of the AI activities could not be refreshed");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The input with these options (the same object when nothing changed, so that unchanged descriptors stay registered as they are).</summary>
    private static InputDescriptor With(InputDescriptor input, IReadOnlyList<string> options, string? uiHint = null) =>
        input.Options is { } current && current.SequenceEqual(options, StringComparer.Ordinal) && (uiHint is null || input.UIHint == uiHint)
            ? input
            : input with { Options = options.ToList(), UIHint = uiHint ?? input.UIHint };
}
