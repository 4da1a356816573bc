using System.Collections.Concurrent;
using System.Diagnostics;
using Activity = Platform.Activities.Activity;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.PackHost;

namespace Platform.Packs;

/// <summary>
/// The pack host process of one pack version with isolation <c>process</c>. Started on the first call, it loads the pack and
/// runs every call of its activities; the server evaluates the inputs, the host runs <c>ExecuteAsync</c> and sends back
/// outcomes, outputs, variables, journal data and log lines (or the fault), which are applied to the engine's context here.
/// Secrets, variables, expressions, MQTT publishing and outbox messages the activity asks for are answered from the engine's
/// context, so the pack's permissions are checked by the <see cref="PackServiceGate"/> as in <c>shared</c> mode.
/// </summary>
/// <remarks>
/// Limits per call (<see cref="PackProcessOptions"/>): wall clock, processor time of the host and memory (the host's GC heap
/// is capped with <c>DOTNET_GCHeapHardLimit</c>; its working set is watched). A breach stops the host and faults the call. A
/// host that exits (a crash on another thread, a stack overflow, <c>Environment.Exit</c>, out of memory) faults its running
/// calls with an incident saying what happened; the next call starts a fresh host.
/// </remarks>
public sealed class PackProcessHost : IDisposable
{
    /// <summary>The fault code of a pack host process that stopped during a call.</summary>
    public const string CrashCode = "pack-crash";

    /// <summary>The fault code of a call that used more processor time or memory than allowed.</summary>
    public const string LimitCode = "resource-limit";

    private readonly PackLoadContext _pack;
    private readonly PackProcessOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _start = new(1, 1);
    private Worker? _worker;
    private volatile bool _disposed;

    internal PackProcessHost(PackLoadContext pack, PackProcessOptions options, ILogger logger)
    {
        _pack = pack;
        _options = options;
        _logger = logger;
    }

    /// <summary>The process id of the running host, or null (for tests and diagnostics).</summary>
    public int? ProcessId => _worker is { Alive: true } w ? w.ProcessId : null;

    /// <summary>How many hosts were started for this pack version (a restart after a crash counts).</summary>
    public int Starts { get; private set; }

    /// <summary>Runs one call of <paramref name="activity"/> in the host and applies its result to <paramref name="context"/>.</summary>
    public async ValueTask RunAsync(Activity activity, ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(context);
        var worker = await WorkerAsync(context.CancellationToken).ConfigureAwait(false);
        await worker.CallAsync(activity, context).ConfigureAwait(false);
    }

    private async ValueTask<Worker> WorkerAsync(CancellationToken cancellationToken)
    {
        if (_worker is { Alive: true } current) return current;
        await _start.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_worker is { Alive: true } w) return w;
            ObjectDisposedException.ThrowIf(_disposed, this);
            var worker = new Worker(this);
            try
            {
                await worker.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                worker.Kill(null);
                throw e as ActivityFaultException ?? new ActivityFaultException(FaultCodes.Configuration,
                    $"The pack host process of '{_pack.PackId}' could not start: {e.Message} Check that Platform.PackHost.dll is next to the server " +
                    "(or set Platform:Packs:Process:HostPath and DotnetPath).", nonRetryable: false, e);
            }
            Starts++;
            _worker = worker;
            if (_disposed) Dispose();
            return worker;
        }
        finally
        {
            _start.Release();
        }
    }

    /// <summary>Stops the host; running calls fault.</summary>
    public void Dispose()
    {
        _disposed = true;
        _worker?.Kill($"The pack '{_pack.PackId}' {_pack.Version} was disabled, removed or upgraded, or the server stopped, while the call ran. Retry the instance.");
        _worker = null;
    }

    private static readonly Dictionary<string, object?> Empty = new();

    private static string DotnetPath()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath)) return hostPath;
        var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location);
        if (runtimeDir is not null)
        {
            var root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
            foreach (var name in new[] { "dotnet", "dotnet.exe" })
                if (File.Exists(Path.Combine(root, name))) return Path.Combine(root, name);
        }
        return Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
    }

    private static string RuntimeConfig(string hostDll)
    {
        var beside = Path.ChangeExtension(hostDll, ".runtimeconfig.json");
        if (File.Exists(beside)) return beside;
        // Copied into another app's folder without its runtimeconfig: run it on the server's runtime (with ASP.NET Core's shared
        // framework, as Platform.PackHost.runtimeconfig.json says).
        var path = Path.Combine(Path.GetTempPath(), $"platform-packhost-{Environment.Version}.runtimeconfig.json");
        if (!File.Exists(path))
        {
            var tmp = path + "." + Environment.ProcessId;
            var version = Environment.Version;
            var json = new System.Text.Json.Nodes.JsonObject
            {
                ["runtimeOptions"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["tfm"] = $"net{version.Major}.{version.Minor}",
                    ["frameworks"] = new System.Text.Json.Nodes.JsonArray(
                        new System.Text.Json.Nodes.JsonObject { ["name"] = "Microsoft.NETCore.App", ["version"] = $"{version.Major}.{version.Minor}.0" },
                        new System.Text.Json.Nodes.JsonObject { ["name"] = "Microsoft.AspNetCore.App", ["version"] = $"{version.Major}.{version.Minor}.0" }),
                    ["configProperties"] = new System.Text.Json.Nodes.JsonObject { ["System.GC.Server"] = false },
                },
            };
            File.WriteAllText(tmp, json.ToJsonString());
            File.Move(tmp, path, overwrite: true);
        }
        return path;
    }

    /// <summary>How the server sees an activity class: its inputs and outputs.</summary>
    private sealed class Shape
    {
        private static readonly ConditionalWeakTable<Type, Shape> Cache = new();
        private static readonly MethodInfo GetInputMethod = typeof(Shape).GetMethod(nameof(GetInput), BindingFlags.NonPublic | BindingFlags.Static)!;

        private Shape(Type type)
        {
            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var pt = p.PropertyType;
                if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Input<>))
                {
                    var get = GetInputMethod.MakeGenericMethod(pt.GetGenericArguments()[0]).CreateDelegate<Func<ActivityExecutionContext, Input, object?>>();
                    Inputs.Add((p, get));
                }
                else if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Output<>))
                    Outputs[p.Name] = (p, pt.GetGenericArguments()[0]);
                else if (p.CanWrite && p.CanRead && p.GetCustomAttribute<InputAttribute>() is not null)
                    Inputs.Add((p, null));
            }
        }

        public List<(PropertyInfo Property, Func<ActivityExecutionContext, Input, object?>? Get)> Inputs { get; } = [];
        public Dictionary<string, (PropertyInfo Property, Type ValueType)> Outputs { get; } = new(StringComparer.Ordinal);

        public static Shape Of(Type type) => Cache.GetValue(type, t => new Shape(t));

        private static object? GetInput<T>(ActivityExecutionContext context, Input input) => context.Get((Input<T>)input);
    }

    private sealed record PendingCall(ActivityExecutionContext Context, Activity Activity)
    {
        public TaskCompletionSource<HostMessage> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One started host process.</summary>
    private sealed class Worker(PackProcessHost owner)
    {
        private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
        private readonly TaskCompletionSource<HostMessage> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly SemaphoreSlim _write = new(1, 1);
        private readonly List<string> _stderrTail = [];
        private Process? _process;
        private Stream? _stdin;
        private long _nextCall;
        private double _cpuMs;
        private int _stderrLines;
        private string? _unhandled;
        private bool _stackOverflow;
        private bool _outOfMemory;
        private string? _killReason;
        private string _killCode = CrashCode;
        private volatile bool _exited;

        public bool Alive => !_exited && _killReason is null;

        public int ProcessId { get; private set; }

        private string PackId => owner._pack.PackId;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var options = owner._options;
            var hostDll = options.HostPath is { Length: > 0 } h ? h : typeof(HostMessage).Assembly.Location;
            if (!File.Exists(hostDll)) throw new FileNotFoundException($"{hostDll} does not exist.");
            var start = new ProcessStartInfo(options.DotnetPath is { Length: > 0 } d ? d : DotnetPath())
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                WorkingDirectory = Path.GetTempPath(),
            };
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(RuntimeConfig(hostDll));
            var deps = Path.ChangeExtension(hostDll, ".deps.json");
            if (File.Exists(deps))
            {
                start.ArgumentList.Add("--depsfile");
                start.ArgumentList.Add(deps);
            }
            start.ArgumentList.Add(hostDll);
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)Math.Max(32, options.MemoryLimitMb) * 1024 * 1024).ToString("X", System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["DOTNET_gcServer"] = "0";
            start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
            start.Environment["DOTNET_EnableCrashReport"] = "0";
            start.Environment["DOTNET_TieredPGO"] = "0";
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.ErrorDataReceived += (_, e) => OnStderr(e.Data);
            process.Start();
            _process = process;
            ProcessId = process.Id;
            process.BeginErrorReadLine();
            _stdin = process.StandardInput.BaseStream;
            _ = Task.Run(() => ReadAsync(process.StandardOutput.BaseStream));

            var pack = owner._pack;
            await SendAsync(new HostMessage
            {
                T = "load", PackId = pack.PackId, Network = [.. pack.Permissions.Network],
                Assemblies = pack.PackAssemblies.ToDictionary(p => p.Key, p => System.Convert.ToBase64String(p.Value)),
            }).ConfigureAwait(false);
            var ready = await _ready.Task.WaitAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
            if (ready.Fault is { } fault) throw new ActivityFaultException(fault.Code, fault.Message, fault.NonRetryable);
            _cpuMs = ready.CpuMs;
            owner._logger.LogInformation("Pack host process {Pid} started for the pack {Id} {Version}", ProcessId, pack.PackId, pack.Version);
        }

        public async ValueTask CallAsync(Activity activity, ActivityExecutionContext context)
        {
            var options = owner._options;
            var shape = Shape.Of(activity.GetType());
            var inputs = new Dictionary<string, object?>(shape.Inputs.Count, StringComparer.Ordinal);
            foreach (var (property, get) in shape.Inputs)
            {
                var raw = property.GetValue(activity);
                if (get is null) inputs[property.Name] = raw;
                else if (raw is Input input) inputs[property.Name] = get(context, input);
            }
            var properties = context.Properties.Count == 0 ? null : new Dictionary<string, object?>(context.Properties);
            var id = Interlocked.Increment(ref _nextCall);
            var call = new PendingCall(context, activity);
            _pending[id] = call;
            try
            {
                var message = new HostMessage
                {
                    T = "call", Id = id, Type = activity.GetType().FullName, ActivityId = activity.Id, NodeId = activity.NodeId, Name = activity.Name,
                    ActivityType = activity.Type, Version = activity.Version, Inputs = inputs, WorkflowInstanceId = context.WorkflowInstanceId,
                    DefinitionId = context.DefinitionId, ActivityInstanceId = context.ActivityInstanceId, CorrelationId = context.CorrelationId,
                    IsTrigger = context.IsTriggerOfWorkflow, UtcNow = context.UtcNow,
                    WorkflowInput = context.WorkflowInput.Count == 0 ? null : new Dictionary<string, object?>(context.WorkflowInput),
                    Properties = properties,
                };
                if (!Alive) throw Stopped(activity);
                try
                {
                    await SendAsync(message).ConfigureAwait(false);
                }
                catch (Exception e) when (e is JsonException or NotSupportedException)
                {
                    throw new ActivityFaultException(FaultCodes.InputConversion,
                        $"The inputs of '{activity.Type}' cannot be sent to the pack host of '{PackId}': {e.Message} Pass plain values (text, numbers, lists, objects).", nonRetryable: true, e);
                }
                catch (IOException)
                {
                    // The host is gone: the reader fails the call with what happened.
                }

                var cpuAtStart = _cpuMs;
                var started = Stopwatch.GetTimestamp();
                var slice = TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(options.CallTimeout.TotalMilliseconds, options.CpuTimeLimit.TotalMilliseconds) / 4, 20, 250));
                using var cancel = context.CancellationToken.Register(() => _ = SendQuietlyAsync(new HostMessage { T = "cancel", Id = id }));
                HostMessage done;
                while (true)
                {
                    try
                    {
                        done = await call.Done.Task.WaitAsync(slice).ConfigureAwait(false);
                        break;
                    }
                    catch (TimeoutException)
                    {
                        CheckLimits(activity, cpuAtStart, started);
                    }
                }
                if (done.CpuMs > 0) _cpuMs = done.CpuMs;
                Apply(done, call, shape, properties);
            }
            finally
            {
                _pending.TryRemove(id, out _);
            }
        }

        private void CheckLimits(Activity activity, double cpuAtStart, long started)
        {
            var options = owner._options;
            var process = _process;
            if (process is null || !Alive) return;
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > options.CallTimeout)
            {
                Kill($"Activity '{activity.Type}' of the pack '{PackId}' did not finish within {Seconds(options.CallTimeout)} (Platform:Packs:Process:CallTimeout), " +
                     "so its pack host process was stopped. Make the activity finish sooner (and stop when context.CancellationToken is cancelled), or raise " +
                     "the limit. The next call starts a fresh pack host.", PackActivityRunner.TimeoutCode);
                return;
            }
            try
            {
                process.Refresh();
                var cpu = process.TotalProcessorTime.TotalMilliseconds - cpuAtStart;
                if (cpu > options.CpuTimeLimit.TotalMilliseconds)
                {
                    Kill($"Activity '{activity.Type}' of the pack '{PackId}' used {cpu / 1000:0.0} s of processor time, more than the limit of " +
                         $"{Seconds(options.CpuTimeLimit)} (Platform:Packs:Process:CpuTimeLimit), so its pack host process was stopped. Look for an endless " +
                         "loop or heavy work in the activity, or raise the limit. The next call starts a fresh pack host.", LimitCode);
                    return;
                }
                var limit = (long)options.MemoryLimitMb * 1024 * 1024;
                if (process.WorkingSet64 > 2 * limit)
                    Kill($"The pack host process of '{PackId}' used {process.WorkingSet64 / 1024 / 1024} MB of memory while running '{activity.Type}', more " +
                         $"than twice the limit of {options.MemoryLimitMb} MB (Platform:Packs:Process:MemoryLimitMb), so it was stopped. Make the activity " +
                         "use less memory, or raise the limit. The next call starts a fresh pack host.", LimitCode);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // The process exited meanwhile: the reader reports it.
            }
        }

        private void Apply(HostMessage done, PendingCall call, Shape shape, Dictionary<string, object?>? sentProperties)
        {
            var (context, activity) = (call.Context, call.Activity);
            foreach (var log in done.Logs ?? [])
                context.Logger.Log((LogLevel)Math.Clamp(log.Level, 0, 6), "{PackLog}", log.Message);
            if (done.Fault is { } fault)
            {
                if (fault.Fatal)
                {
                    var message = $"Activity '{activity.Type}' of the pack '{PackId}' ran out of memory ({fault.Message}): the pack host's heap is limited to " +
                                  $"{owner._options.MemoryLimitMb} MB (Platform:Packs:Process:MemoryLimitMb), so the host was stopped. Make the activity use less " +
                                  "memory, or raise the limit. The next call starts a fresh pack host.";
                    Kill(message, LimitCode);
                    throw new ActivityFaultException(LimitCode, message, nonRetryable: true);
                }
                if (fault.Canceled && context.CancellationToken.IsCancellationRequested) throw new OperationCanceledException(context.CancellationToken);
                throw new ActivityFaultException(fault.Code, fault.Message, fault.NonRetryable);
            }
            foreach (var (name, value) in done.Outputs ?? Empty)
                if (shape.Outputs.TryGetValue(name, out var output) && output.Property.GetValue(activity) is { } target)
                    context.SetOutput(target, Convert(value, output.ValueType, activity, name));
            foreach (var (name, value) in done.Variables ?? []) context.SetVariable(name, HostFrames.Plain(value));
            foreach (var (name, value) in done.WorkflowOutput ?? Empty) context.SetWorkflowOutput(name, HostFrames.Plain(value));
            foreach (var (key, value) in done.Journal ?? Empty) context.AddJournalData(key, HostFrames.Plain(value));
            if (done.CorrelationChanged) context.CorrelationId = done.CorrelationId;
            if (done.Properties is { } after)
            {
                foreach (var (key, value) in after)
                    if (sentProperties is null || !sentProperties.TryGetValue(key, out var before) || !SameJson(before, value))
                        context.Properties[key] = HostFrames.Plain(value);
                foreach (var key in sentProperties?.Keys ?? Enumerable.Empty<string>())
                    if (!after.ContainsKey(key)) context.Properties.Remove(key);
            }
            if (done.Outcomes is { Count: > 0 } outcomes) context.Complete([.. outcomes]);
        }

        private static bool SameJson(object? before, object? after)
        {
            try
            {
                return after is JsonElement e && JsonSerializer.Serialize(before, HostFrames.Json) == e.GetRawText();
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException)
            {
                return false;
            }
        }

        private object? Convert(object? value, Type type, Activity activity, string name)
        {
            try
            {
                return HostFrames.ConvertTo(value, type);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                throw new ActivityFaultException(FaultCodes.InputConversion, $"Output '{name}' of '{activity.Type}' in the pack '{PackId}' could not be read: {e.Message}", nonRetryable: true, e);
            }
        }

        private async Task ReadAsync(Stream stdout)
        {
            try
            {
                while (await HostFrames.ReadAsync(stdout).ConfigureAwait(false) is { } message)
                {
                    switch (message.T)
                    {
                        case "ready":
                            _ready.TrySetResult(message);
                            break;
                        case "done":
                            if (_pending.TryGetValue(message.Id, out var call)) call.Done.TrySetResult(message);
                            break;
                        case "svc":
                            _ = Task.Run(() => ServeAsync(message));
                            break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException or ObjectDisposedException)
            {
                owner._logger.LogDebug(e, "The channel to the pack host of {Id} broke", PackId);
            }
            await ExitedAsync().ConfigureAwait(false);
        }

        private async Task ExitedAsync()
        {
            _exited = true;
            var process = _process;
            int? exitCode = null;
            if (process is not null)
            {
                try
                {
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                    exitCode = process.ExitCode;
                }
                catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
                {
                    Kill(null);
                }
            }
            var reason = _killReason is { Length: > 0 } ? _killReason : null;
            string? what;
            lock (_stderrTail)
            {
                what = _stackOverflow ? "a stack overflow in the pack (endless recursion?)"
                    : _outOfMemory ? $"the pack ran out of memory (the host's heap is limited to {owner._options.MemoryLimitMb} MB, Platform:Packs:Process:MemoryLimitMb)"
                    : _unhandled is not null ? $"an unhandled exception in the pack outside the activity call, for example on a thread it started ({Trim(_unhandled)})"
                    : exitCode is > 128 and < 160 ? $"the process was killed by signal {exitCode - 128} ({Signal(exitCode.Value - 128)})"
                    : exitCode is not null ? $"the pack ended the process (Environment.Exit({exitCode}) or a failure at start){(_stderrTail.Count > 0 ? $"; it wrote: {Trim(_stderrTail[^1])}" : "")}"
                    : "the process stopped answering";
            }
            var code = exitCode is null ? "unknown" : exitCode is > 128 and < 160 ? $"{exitCode}, signal {exitCode - 128} {Signal(exitCode.Value - 128)}" : $"{exitCode}";
            if (reason is null && !_pending.IsEmpty)
                owner._logger.LogWarning("The pack host process {Pid} of {Id} stopped (exit code {Code}): {What}", ProcessId, PackId, code, what);
            else if (reason is null)
                owner._logger.LogWarning("The pack host process {Pid} of {Id} stopped between calls (exit code {Code}): {What}; the next call starts a fresh one", ProcessId, PackId, code, what);
            var crashCode = _killCode;
            foreach (var (_, call) in _pending)
                call.Done.TrySetException(reason is not null
                    ? new ActivityFaultException(crashCode, reason, nonRetryable: true)
                    : new ActivityFaultException(CrashCode,
                        $"The pack host process of '{PackId}' stopped while running activity '{call.Activity.Type}': {what} (exit code {code}). " +
                        "The server keeps serving and the next call starts a fresh pack host. Fix the pack and install a new version.", nonRetryable: true));
            _ready.TrySetException(new InvalidOperationException($"The pack host process stopped at start (exit code {code}): {what}."));
            process?.Dispose();
        }

        private ActivityFaultException Stopped(Activity activity) =>
            new(_killCode, _killReason ?? $"The pack host process of '{PackId}' stopped before '{activity.Type}' could run. Retry; the next call starts a fresh pack host.", nonRetryable: false);

        private async Task ServeAsync(HostMessage request)
        {
            var reply = new HostMessage { T = "reply", Id = request.Id };
            try
            {
                if (!_pending.TryGetValue(request.Call, out var call))
                    throw new ActivityFaultException(FaultCodes.Configuration, "The call that asked is over.");
                var context = call.Context;
                var ct = context.CancellationToken;
                var name = HostFrames.Plain(request.Value)?.ToString() ?? "";
                switch (request.Type)
                {
                    case "secret":
                        reply.Value = await context.GetRequiredService<IPackSecrets>().GetAsync(name, ct).ConfigureAwait(false);
                        break;
                    case "variable":
                        reply.Value = context.GetVariable(name);
                        break;
                    case "evaluate":
                        reply.Value = await context.EvaluateAsync(new Expression(request.Text ?? ExpressionTypes.Literal, HostFrames.Plain(request.Value))).ConfigureAwait(false);
                        break;
                    case "publish":
                        await context.GetRequiredService<IPackMqtt>().PublishAsync(name, System.Convert.FromBase64String(request.Text ?? ""), request.Extra == "true", ct).ConfigureAwait(false);
                        break;
                    case "outbox":
                        reply.Value = context.AddOutboxMessage(new OutboxMessageRequest(request.Text ?? "", name) { ConversationKey = request.Extra });
                        break;
                    default:
                        throw new ActivityFaultException(FaultCodes.Configuration, $"The pack host asked for an unknown service '{request.Type}'.", nonRetryable: true);
                }
            }
            catch (ActivityFaultException e)
            {
                reply.Value = null;
                reply.Fault = new HostFault { Code = e.Code, Message = e.Message, NonRetryable = e.NonRetryable };
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                reply.Value = null;
                reply.Fault = new HostFault { Code = FaultCodes.Unhandled, Message = $"{e.GetType().Name}: {e.Message}" };
            }
            catch (OperationCanceledException)
            {
                reply.Value = null;
                reply.Fault = new HostFault { Code = FaultCodes.Unhandled, Message = "The call was cancelled.", Canceled = true };
            }
            try
            {
                await SendAsync(reply).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                await SendQuietlyAsync(new HostMessage
                {
                    T = "reply", Id = request.Id,
                    Fault = new HostFault { Code = FaultCodes.Configuration, Message = $"The answer to '{request.Type}' cannot be sent to the pack host: {e.Message}", NonRetryable = true },
                }).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The host is gone.
            }
        }

        private async Task SendAsync(HostMessage message)
        {
            var stdin = _stdin ?? throw new IOException("The pack host is not started.");
            await _write.WaitAsync().ConfigureAwait(false);
            try
            {
                await HostFrames.WriteAsync(stdin, message).ConfigureAwait(false);
            }
            finally
            {
                _write.Release();
            }
        }

        private async Task SendQuietlyAsync(HostMessage message)
        {
            try
            {
                await SendAsync(message).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or JsonException or NotSupportedException)
            {
                // The host is gone or the message cannot be sent; the call ends anyway.
            }
        }

        /// <summary>Stops the process; running calls fault with <paramref name="reason"/> (or with what the exit shows, when null).</summary>
        public void Kill(string? reason, string code = CrashCode)
        {
            if (reason is not null && _killReason is null)
            {
                _killCode = code;
                _killReason = reason;
                owner._logger.LogWarning("Stopping the pack host process {Pid} of {Id}: {Reason}", ProcessId, PackId, reason);
            }
            try
            {
                if (_process is { HasExited: false } p) p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Already gone.
            }
        }

        private void OnStderr(string? line)
        {
            if (line is null) return;
            lock (_stderrTail)
            {
                if (line.Contains("Stack overflow", StringComparison.Ordinal)) _stackOverflow = true;
                if (line.Contains("OutOfMemoryException", StringComparison.Ordinal) || line.Contains("Out of memory", StringComparison.OrdinalIgnoreCase)) _outOfMemory = true;
                if (_unhandled is null && line.StartsWith("Unhandled exception", StringComparison.Ordinal)) _unhandled = line;
                _stderrTail.Add(line);
                if (_stderrTail.Count > 10) _stderrTail.RemoveAt(0);
                if (++_stderrLines > 50) return;
            }
            owner._logger.LogInformation("Pack {Id} host {Pid}: {Line}", PackId, ProcessId, line);
        }

        private static string Trim(string text) => text.Length <= 300 ? text.Trim() : text[..300].Trim() + "…";

        private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.###} s";

        private static string Signal(int signal) => signal switch
        {
            6 => "SIGABRT", 9 => "SIGKILL", 11 => "SIGSEGV", 15 => "SIGTERM", 4 => "SIGILL", 7 => "SIGBUS", 8 => "SIGFPE", _ => "signal",
        };
    }
}
