using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using Platform.Activities;

namespace Platform.PackHost;

/// <summary>
/// Runs in the pack host process: loads the pack sent in the <c>load</c> frame, then runs each <c>call</c> (concurrently)
/// with a <see cref="HostActivityContext"/> and answers with a <c>done</c> frame. Returns when the server closes stdin.
/// </summary>
public sealed class PackHostRuntime(Stream input, Stream output)
{
    private static readonly MethodInfo ExecuteMethod = typeof(Activity).GetMethod("ExecuteAsync", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingMethodException(nameof(Activity), "ExecuteAsync");

    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly ConcurrentDictionary<long, CancellationTokenSource> _calls = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<HostMessage>> _services = new();
    private readonly Dictionary<string, Type> _types = new(StringComparer.Ordinal);
    private long _nextService;

    /// <summary>The pack's id.</summary>
    public string PackId { get; private set; } = "";

    /// <summary>The declared network hosts.</summary>
    public IReadOnlyList<string> Network { get; private set; } = [];

    /// <summary>Reads frames until the server closes the channel.</summary>
    public async Task RunAsync()
    {
        while (await HostFrames.ReadAsync(input).ConfigureAwait(false) is { } message)
        {
            switch (message.T)
            {
                case "load":
                    await SendAsync(Load(message)).ConfigureAwait(false);
                    break;
                case "call":
                    var cts = new CancellationTokenSource();
                    _calls[message.Id] = cts;
                    _ = Task.Run(() => CallAsync(message, cts));
                    break;
                case "cancel":
                    if (_calls.TryGetValue(message.Id, out var c)) c.Cancel();
                    break;
                case "reply":
                    if (_services.TryRemove(message.Id, out var pending)) pending.TrySetResult(message);
                    break;
            }
        }
    }

    private HostMessage Load(HostMessage message)
    {
        try
        {
            PackId = message.PackId ?? "";
            Network = message.Network ?? [];
            var images = (message.Assemblies ?? new Dictionary<string, string>()).ToDictionary(p => p.Key, p => Convert.FromBase64String(p.Value), StringComparer.OrdinalIgnoreCase);
            var context = new HostLoadContext(images);
            foreach (var name in images.Keys.Order(StringComparer.OrdinalIgnoreCase))
            {
                var assembly = context.LoadFromAssemblyName(new AssemblyName(name));
                if (!assembly.GetReferencedAssemblies().Any(r => r.Name == typeof(Activity).Assembly.GetName().Name)) continue;
                foreach (var type in assembly.GetExportedTypes())
                    if (!type.IsAbstract && typeof(Activity).IsAssignableFrom(type) && type.GetConstructor(Type.EmptyTypes) is not null)
                        _types[type.FullName!] = type;
            }
            return new HostMessage { T = "ready", CpuMs = CpuMs() };
        }
        catch (Exception e)
        {
            return new HostMessage
            {
                T = "ready", CpuMs = CpuMs(),
                Fault = new HostFault { Code = FaultCodes.Configuration, Message = $"The pack host could not load the pack '{message.PackId}': {e.GetType().Name}: {e.Message}", NonRetryable = true },
            };
        }
    }

    private async Task CallAsync(HostMessage call, CancellationTokenSource cts)
    {
        HostMessage done;
        HostActivityContext? context = null;
        try
        {
            if (call.Type is null || !_types.TryGetValue(call.Type, out var type))
                throw new ActivityFaultException(FaultCodes.Configuration, $"The pack host of '{PackId}' has no activity class '{call.Type}'. Reinstall the pack.", nonRetryable: true);
            var activity = (Activity)Activator.CreateInstance(type)!;
            activity.Id = call.ActivityId ?? "";
            activity.NodeId = call.NodeId ?? "";
            activity.Name = call.Name;
            activity.Type = call.ActivityType ?? "";
            activity.Version = call.Version;
            context = new HostActivityContext(this, activity, call, cts.Token);
            context.ApplyInputs(call.Inputs);
            await ((ValueTask)ExecuteMethod.Invoke(activity, BindingFlags.DoNotWrapExceptions, null, [context], null)!).ConfigureAwait(false);
            done = context.Result();
        }
        catch (Exception e)
        {
            done = context?.Result() ?? new HostMessage();
            done.Outcomes = null;
            done.Fault = e switch
            {
                ActivityFaultException f => new HostFault { Code = f.Code, Message = f.Message, NonRetryable = f.NonRetryable },
                OperationCanceledException when cts.IsCancellationRequested => new HostFault { Code = FaultCodes.Unhandled, Message = "The call was cancelled.", Canceled = true },
                OutOfMemoryException or InsufficientExecutionStackException => new HostFault
                {
                    Code = FaultCodes.Unhandled, Message = $"{e.GetType().Name}: {e.Message}", ExceptionType = e.GetType().FullName, Fatal = true,
                },
                _ => new HostFault { Code = FaultCodes.Unhandled, Message = $"{e.GetType().Name}: {e.Message}", ExceptionType = e.GetType().FullName },
            };
        }
        finally
        {
            _calls.TryRemove(call.Id, out _);
            cts.Dispose();
        }
        done.T = "done";
        done.Id = call.Id;
        done.CpuMs = CpuMs();
        await SendAsync(done).ConfigureAwait(false);
    }

    /// <summary>Asks the server for a service on behalf of a call and waits for the answer.</summary>
    internal async Task<object?> ServiceAsync(long call, string kind, object? value, string? text = null, string? extra = null, CancellationToken cancellationToken = default)
    {
        var id = Interlocked.Increment(ref _nextService);
        var pending = new TaskCompletionSource<HostMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _services[id] = pending;
        await SendAsync(new HostMessage { T = "svc", Id = id, Call = call, Type = kind, Value = value, Text = text, Extra = extra }).ConfigureAwait(false);
        var reply = await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (reply.Fault is { } fault) throw new ActivityFaultException(fault.Code, fault.Message, fault.NonRetryable);
        return reply.Value;
    }

    private async Task SendAsync(HostMessage message)
    {
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            await HostFrames.WriteAsync(output, message).ConfigureAwait(false);
        }
        finally
        {
            _write.Release();
        }
    }

    private static double CpuMs() => Environment.CpuUsage.TotalTime.TotalMilliseconds;

    /// <summary>
    /// The pack's assemblies, loaded privately; the SDK and the framework come from the host's default context, and an
    /// assembly the pack does not ship is taken from the host's folder when it is there (the server's libraries).
    /// </summary>
    private sealed class HostLoadContext : AssemblyLoadContext
    {
        private readonly Dictionary<string, byte[]> _images;

        public HostLoadContext(Dictionary<string, byte[]> images) : base("pack")
        {
            _images = images;
            Resolving += (_, name) =>
            {
                var path = Path.Combine(AppContext.BaseDirectory, name.Name + ".dll");
                return File.Exists(path) ? Default.LoadFromAssemblyPath(path) : null;
            };
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name;
            if (name is null || name == typeof(Activity).Assembly.GetName().Name) return null;
            if (name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "netstandard"
                || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal))
                return null;
            return _images.TryGetValue(name, out var image) ? LoadFromStream(new MemoryStream(image, writable: false)) : null;
        }
    }
}
