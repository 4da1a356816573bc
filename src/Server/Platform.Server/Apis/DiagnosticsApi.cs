using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// <c>GET /api/diagnostics/runtime</c>: the process's garbage collections (counts and total pause), heap, bytes allocated,
/// CPU time, methods compiled by the JIT (a count that keeps growing under steady traffic means code is generated per
/// request), thread pool and uptime, for operators who see latency spikes and want to know whether the runtime or the workflows cause them.
/// The load benchmarks read it before and after a run.
/// </summary>
public static class DiagnosticsApi
{
    /// <summary>The figures; counters are totals since the process started.</summary>
    public sealed record RuntimeDiagnostics(
        double UptimeSeconds, int Gen0Collections, int Gen1Collections, int Gen2Collections, double GcPauseTotalMs, double GcPauseTimePercent,
        double HeapMb, double WorkingSetMb, bool ServerGc, string GcLatencyMode, int ThreadPoolThreads, long ThreadPoolPendingItems,
        long ThreadPoolCompletedItems, int ProcessorCount, double AllocatedMb, double CpuSeconds,
        long JitCompiledMethods);

    /// <summary>Maps the endpoint (read access).</summary>
    public static IEndpointRouteBuilder MapDiagnosticsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/diagnostics/runtime", Runtime).RequireAuthorization(ApiPolicies.Read).WithTags("Diagnostics");
        return app;
    }

    /// <summary>The current figures.</summary>
    public static Ok<RuntimeDiagnostics> Runtime()
    {
        using var process = Process.GetCurrentProcess();
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return TypedResults.Ok(new RuntimeDiagnostics(
            (DateTime.Now - process.StartTime).TotalSeconds,
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, info.PauseTimePercentage,
            GC.GetTotalMemory(false) / 1048576.0, process.WorkingSet64 / 1048576.0,
            System.Runtime.GCSettings.IsServerGC, System.Runtime.GCSettings.LatencyMode.ToString(),
            ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, ThreadPool.CompletedWorkItemCount, Environment.ProcessorCount,
            GC.GetTotalAllocatedBytes(precise: false) / 1048576.0, process.TotalProcessorTime.TotalSeconds,
            System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false)));
    }
}
