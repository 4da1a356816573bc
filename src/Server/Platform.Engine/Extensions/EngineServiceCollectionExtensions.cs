using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Runtime;
using Platform.Engine.Stores;

namespace Platform.Engine;

/// <summary>Configures the engine: activity packs, stores, expression evaluators.</summary>
public sealed class EngineBuilder
{
    internal EngineBuilder(IServiceCollection services) => Services = services;

    public IServiceCollection Services { get; }

    internal List<System.Reflection.Assembly> PackAssemblies { get; } = [];

    /// <summary>Registers every activity of the pack's assembly.</summary>
    public EngineBuilder AddActivitiesFrom<TPack>() where TPack : IActivityPack
    {
        if (!PackAssemblies.Contains(typeof(TPack).Assembly)) PackAssemblies.Add(typeof(TPack).Assembly);
        return this;
    }

    /// <summary>Registers one activity class.</summary>
    public EngineBuilder AddActivity<TActivity>() where TActivity : Activity, new()
    {
        Services.AddSingleton(new ActivityRegistration(typeof(TActivity)));
        return this;
    }
}

internal sealed record ActivityRegistration(Type Type);

public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// Adds the workflow engine with in-memory stores (replace them with a persistence module such as
    /// <c>AddPlatformPersistence</c>) and the in-process timer.
    /// </summary>
    public static IServiceCollection AddWorkflowEngine(this IServiceCollection services, Action<EngineBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new EngineBuilder(services);
        configure?.Invoke(builder);
        var packs = builder.PackAssemblies.ToList();

        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();
        services.TryAddSingleton(sp =>
        {
            var registry = new ActivityRegistry();
            foreach (var a in packs) registry.RegisterAssembly(a);
            foreach (var r in sp.GetServices<ActivityRegistration>()) registry.Register(ActivityRegistry.Describe(r.Type));
            return registry;
        });
        services.TryAddSingleton<WorkflowMaterializer>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpressionEvaluator, LiteralEvaluator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpressionEvaluator, ObjectEvaluator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpressionEvaluator, VariableEvaluator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpressionEvaluator, JavaScriptEvaluator>());
        services.TryAddSingleton<LiquidEvaluator>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IExpressionEvaluator, LiquidEvaluator>(sp => sp.GetRequiredService<LiquidEvaluator>()));
        services.TryAddSingleton<ExpressionEvaluator>();

        services.TryAddSingleton<InMemoryStore>();
        services.TryAddSingleton<IWorkflowDefinitionStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IWorkflowInstanceStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IWorkflowCommitStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IBookmarkStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<ITriggerStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IActivityExecutionStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IInboxStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IOutboxStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.TryAddSingleton<IConversationStore>(sp => sp.GetRequiredService<InMemoryStore>());

        services.TryAddSingleton<IInstanceLock, InProcessInstanceLock>();
        services.TryAddSingleton<WorkflowRuntime>();
        services.TryAddSingleton<IWorkflowRuntime>(sp => sp.GetRequiredService<WorkflowRuntime>());
        services.TryAddSingleton<IWorkflowInvoker>(sp => sp.GetRequiredService<WorkflowRuntime>());
        services.TryAddSingleton<IWorkflowDefinitionService, WorkflowDefinitionService>();
        // Save-time checks of activities that validate their own configuration (IValidatesConfiguration, the pack SDK's hook).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWorkflowValidator, ActivityConfigurationValidator>());

        services.TryAddSingleton<TimerBookmarkScheduler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IBookmarkScheduler, TimerBookmarkScheduler>(sp => sp.GetRequiredService<TimerBookmarkScheduler>()));
        services.AddHostedService(sp => sp.GetRequiredService<TimerBookmarkScheduler>());

        // Background activities run in-process unless a scheduler (Hangfire) replaces the dispatcher; shutdown waits for running bursts.
        services.TryAddSingleton<InProcessBackgroundDispatcher>();
        services.TryAddSingleton<IBackgroundActivityDispatcher>(sp => sp.GetRequiredService<InProcessBackgroundDispatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<InProcessBackgroundDispatcher>());
        services.AddHostedService<WorkflowRuntimeShutdown>();

        // One-time start-up costs (parsers, query plans) are paid in the background after start, not by the first message.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupWarmUp, ExpressionWarmUp>());
        services.TryAddSingleton<StartupWarmUpService>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupWarmUpService>());
        return services;
    }
}
