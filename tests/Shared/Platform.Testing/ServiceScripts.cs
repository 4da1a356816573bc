using System.Diagnostics;

namespace Platform.Testing;

/// <summary>
/// Runs the service scripts kept in the repository's <c>tests/services</c> folder (<c>start-postgres.sh</c>,
/// <c>start-mosquitto.sh</c>, <c>start-mail.sh</c>, <c>install-packages.sh</c>, …). The start scripts install the Debian
/// packages they need when they are missing (as root) and print <c>NAME=value</c> lines; see <see cref="ParseAssignments"/>.
/// </summary>
public static class ServiceScripts
{
    /// <summary>
    /// The environment variable a script reads for the process that owns the service: when that process is gone (a test
    /// run that was killed), the service stops itself. Set to this process for every script run here.
    /// </summary>
    public const string OwnerVariable = "SERVICE_OWNER_PID";

    /// <summary>The scripts folder, <c>tests/services</c> in the repository.</summary>
    public static string Directory => TestPaths.InRepo("tests", "services");

    /// <summary>The full path of <paramref name="script"/>; throws a clear error when the repository does not have it.</summary>
    public static string PathOf(string script)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(script);
        var path = Path.Combine(Directory, script);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Service script not found: {path} (it belongs in the repository's tests/services).", path);
    }

    /// <summary>Runs <c>bash tests/services/<paramref name="script"/> <paramref name="arguments"/></c> and returns its standard output.</summary>
    /// <param name="script">The script's file name in <c>tests/services</c>.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="timeout">How long it may run before it is killed.</param>
    /// <param name="ct">Cancels the run (the script is killed).</param>
    /// <param name="environment">Extra environment variables, e.g. another <see cref="OwnerVariable"/>.</param>
    /// <exception cref="InvalidOperationException">The script failed; the message carries its output and error output.</exception>
    /// <exception cref="TimeoutException">The script did not finish within <paramref name="timeout"/> (it was killed).</exception>
    public static async Task<string> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken ct = default,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var path = PathOf(script);
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        info.ArgumentList.Add(path);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment[OwnerVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start bash {path}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"{script} {string.Join(' ', arguments)} did not finish within {timeout}.");
        }
        var output = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException(
                $"tests/services/{script} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}.\n{error.Trim()}\n{output.Trim()}".TrimEnd());
    }

    /// <summary>Synchronous <see cref="RunAsync"/>, for lazily started services behind synchronous properties.</summary>
    public static string Run(string script, IEnumerable<string> arguments, TimeSpan timeout) =>
        Task.Run(() => RunAsync(script, arguments, timeout)).GetAwaiter().GetResult();

    /// <summary>
    /// Installs the Debian packages given that are not installed yet (<c>install-packages.sh</c>: apt-get as root, one
    /// apt-get at a time across test processes). Not root and a package missing: fails with the command to run.
    /// </summary>
    public static void InstallDebianPackages(params string[] packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        if (packages.Length == 0) return;
        Run("install-packages.sh", packages, TimeSpan.FromMinutes(15));
    }

    /// <summary>Parses the <c>NAME=value</c> / <c>NAME='value'</c> / <c>export NAME=value</c> lines the scripts print.</summary>
    public static IReadOnlyDictionary<string, string> ParseAssignments(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var line = raw.StartsWith("export ", StringComparison.Ordinal) ? raw["export ".Length..] : raw;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var value = line[(eq + 1)..];
            if (value.Length >= 2 && (value[0] == '\'' || value[0] == '"') && value[^1] == value[0]) value = value[1..^1];
            values[line[..eq]] = value;
        }
        return values;
    }

    /// <summary>
    /// A port from the environment variable <paramref name="variable"/>; null when it is not set. A value that is not a port
    /// is an error (rather than silently starting a second service).
    /// </summary>
    public static int? PortFromEnvironment(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value)) return null;
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new InvalidOperationException($"{variable} is '{value}', which is not a TCP port. Unset it to let the tests start the service themselves.");
    }
}

/// <summary>
/// One service of this test process started from a <c>tests/services</c> start script on first use and stopped with its stop
/// script (by the assembly fixture's dispose, else when the process exits; the script's watcher stops it if the process is
/// killed). Thread-safe; a start that failed fails every later use with the same error instead of trying again.
/// </summary>
public sealed class ScriptedService
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(15); // may apt-get install first
    private readonly Lock _lock = new();
    private readonly string _name;
    private readonly string _startScript;
    private readonly string _stopScript;
    private IReadOnlyDictionary<string, string>? _values;
    private Exception? _failure;
    private string? _workDirectory;

    /// <summary>Describes the service; nothing starts until <see cref="Values"/> is read.</summary>
    /// <param name="name">Readable name for messages and the work directory.</param>
    /// <param name="startScript">Start script: takes the work directory, prints <c>NAME=value</c> lines.</param>
    /// <param name="stopScript">Stop script: takes the work directory, stops the service and deletes the directory.</param>
    public ScriptedService(string name, string startScript, string stopScript)
    {
        _name = name;
        _startScript = startScript;
        _stopScript = stopScript;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
    }

    /// <summary>True while a service started here runs.</summary>
    public bool IsRunning
    {
        get { lock (_lock) return _workDirectory is not null; }
    }

    /// <summary>The values the start script printed (starts the service on first use).</summary>
    public IReadOnlyDictionary<string, string> Values
    {
        get
        {
            lock (_lock)
            {
                if (_values is not null) return _values;
                if (_failure is not null) throw new InvalidOperationException($"{_name} could not be started earlier in this run: {_failure.Message}", _failure);
                var directory = Path.Combine(Path.GetTempPath(), $"platform-{_name}-{Guid.NewGuid():N}");
                try
                {
                    var output = ServiceScripts.Run(_startScript, [directory], StartTimeout);
                    _workDirectory = directory;
                    return _values = ServiceScripts.ParseAssignments(output);
                }
                catch (Exception e)
                {
                    _failure = e;
                    throw new InvalidOperationException($"Could not start {_name} with tests/services/{_startScript}: {e.Message}", e);
                }
            }
        }
    }

    /// <summary>A value the start script printed, as a port.</summary>
    public int Port(string name) =>
        Values.TryGetValue(name, out var value) && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? port
            : throw new InvalidOperationException($"tests/services/{_startScript} printed no {name}.");

    /// <summary>Stops the service if it was started here (a later use starts it again).</summary>
    public void Stop()
    {
        lock (_lock)
        {
            if (_workDirectory is null) return;
            try
            {
                ServiceScripts.Run(_stopScript, [_workDirectory], TimeSpan.FromMinutes(1));
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
            {
                Console.Error.WriteLine($"warning: stopping {_name} failed: {e.Message}");
            }
            _workDirectory = null;
            _values = null;
        }
    }
}
