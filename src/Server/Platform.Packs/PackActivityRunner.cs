using System.Runtime.Loader;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Contracts;

namespace Platform.Packs;

/// <summary>
/// Runs the activities of installed packs by their isolation: <c>process</c> packs in their pack host process
/// (<see cref="PackProcessHost"/>, started on first use and again after a crash), <c>shared</c> packs in the server with the
/// per-call wall-clock limit applied through <c>context.CancellationToken</c>. Built-in activities are not touched.
/// </summary>
public sealed class PackActivityRunner(IOptions<PackOptions> options, ILoggerFactory? loggers = null) : IActivityRunner, IDisposable
{
    /// <summary>The fault code of a call that took longer than its limit.</summary>
    public const string TimeoutCode = "timeout";

    private readonly ILogger _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<PackProcessHost>();
    private readonly List<WeakReference<PackProcessHost>> _hosts = [];

    /// <inheritdoc />
    public bool TryRun(Activity activity, ActivityExecutionContext context, Func<Activity, ActivityExecutionContext, ValueTask> execute, out ValueTask execution)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(execute);
        if (AssemblyLoadContext.GetLoadContext(activity.GetType().Assembly) is not PackLoadContext pack)
        {
            execution = default;
            return false;
        }
        execution = pack.Isolation == "process"
            ? pack.GetOrCreateHost(Create).RunAsync(activity, context)
            : RunSharedAsync(pack, activity, context, execute);
        return true;
    }

    private PackProcessHost Create(PackLoadContext pack)
    {
        var host = new PackProcessHost(pack, options.Value.Process, _logger);
        lock (_hosts)
        {
            _hosts.RemoveAll(h => !h.TryGetTarget(out _));
            _hosts.Add(new WeakReference<PackProcessHost>(host));
        }
        return host;
    }

    /// <summary>Stops every pack host process (the server shuts down).</summary>
    public void Dispose()
    {
        lock (_hosts)
        {
            foreach (var h in _hosts)
                if (h.TryGetTarget(out var host)) host.Dispose();
            _hosts.Clear();
        }
    }

    private async ValueTask RunSharedAsync(PackLoadContext pack, Activity activity, ActivityExecutionContext context, Func<Activity, ActivityExecutionContext, ValueTask> execute)
    {
        var limit = options.Value.SharedCallTimeout;
        if (limit <= TimeSpan.Zero || limit == Timeout.InfiniteTimeSpan)
        {
            await execute(activity, context).ConfigureAwait(false);
            return;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(limit);
        try
        {
            await execute(activity, new CancellableActivityContext(context, cts.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cts.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw new ActivityFaultException(TimeoutCode,
                $"Activity '{activity.Type}' of the pack '{pack.PackId}' did not finish within {limit.TotalSeconds:0.###} s (Platform:Packs:SharedCallTimeout); " +
                "it was cancelled and stopped. Make it finish sooner, or raise the limit.", nonRetryable: false, e);
        }
    }
}
