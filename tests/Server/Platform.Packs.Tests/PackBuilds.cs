using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Platform.Testing;

namespace Platform.Packs.Tests;

/// <summary>
/// The <c>dotnet pack</c> builds the pack tests need (the SDK package, the sample pack v1 and v2, the template's pack), each made
/// once: a build runs at most once per test run (shared by every class that asks), and its output is kept in a folder under
/// the temp directory named by the SHA-256 of its sources (the files, the .NET version and the builds it depends on), so a
/// later run with the same sources reuses it and packs nothing. Changing any source file makes a new folder. Set
/// <c>PLATFORM_TEST_PACK_CACHE=off</c> to build into a fresh folder every run.
/// </summary>
public static class PackBuilds
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<Build>>> Builds = new(StringComparer.Ordinal);

    /// <summary>A finished build: its folder and the hash of what it was made from.</summary>
    /// <param name="Directory">The output folder (read-only by convention: copy before changing anything).</param>
    /// <param name="Hash">The source hash.</param>
    /// <param name="Built">True when this run ran dotnet; false when an earlier run's output was reused.</param>
    /// <param name="Elapsed">How long the dotnet commands took (zero when reused).</param>
    public sealed record Build(string Directory, string Hash, bool Built, TimeSpan Elapsed)
    {
        /// <summary>A file of the build.</summary>
        public string File(params string[] parts) => Path.Combine([Directory, .. parts]);
    }

    /// <summary>The SDK package <c>Platform.Activities.Abstractions</c> packed into a folder that serves as a local feed.</summary>
    public static Task<Build> SdkFeedAsync() => GetAsync("sdk",
        [TestPaths.InRepo("src", "Activities", "Platform.Activities.Abstractions"), TestPaths.InRepo("Directory.Build.props"),
         TestPaths.InRepo("Directory.Packages.props"), TestPaths.InRepo("global.json")], [],
        (output, work) => RunDotnetAsync(TestPaths.RepoRoot, Env(Path.Combine(work, "nuget")),
            "pack", TestPaths.InRepo("src", "Activities", "Platform.Activities.Abstractions"), "-o", output, "-v", "q"));

    /// <summary>
    /// The sample <c>samples/Acme.Weather</c> packed twice: <c>Acme.Weather.1.0.0.nupkg</c>, and <c>Acme.Weather.2.0.0.nupkg</c>
    /// whose reply reads "{city} now: …".
    /// </summary>
    public static async Task<Build> SampleWeatherAsync()
    {
        var sdk = await SdkFeedAsync();
        var sample = TestPaths.InRepo("samples", "Acme.Weather");
        return await GetAsync("sample-weather",
            [Path.Combine(sample, "pack.json"), Path.Combine(sample, "Directory.Build.props"), Path.Combine(sample, "Directory.Packages.props"),
             Path.Combine(sample, "src", "Acme.Weather")], [sdk],
            async (output, work) =>
            {
                var env = Env(Path.Combine(work, "nuget"));
                // A copy of the sample (its pack project only) whose nuget.config names the SDK feed.
                var copy = Directory.CreateDirectory(Path.Combine(work, "Acme.Weather")).FullName;
                foreach (var file in new[] { "pack.json", "Directory.Build.props", "Directory.Packages.props" }) File.Copy(Path.Combine(sample, file), Path.Combine(copy, file));
                var project = Directory.CreateDirectory(Path.Combine(copy, "src", "Acme.Weather")).FullName;
                foreach (var file in Directory.GetFiles(Path.Combine(sample, "src", "Acme.Weather"), "*.cs*")) File.Copy(file, Path.Combine(project, Path.GetFileName(file)));
                await WriteNuGetConfigAsync(copy, sdk.Directory);
                await RunDotnetAsync(copy, env, "pack", Path.Combine("src", "Acme.Weather"), "-c", "Release", "-o", output, "-v", "q");

                // Version 2: another reply, the version raised in the project and in pack.json.
                var reply = Path.Combine(project, "Reply.cs");
                await File.WriteAllTextAsync(reply, (await File.ReadAllTextAsync(reply)).Replace("\"The weather in {0}: {1}, {2} °C.\"", "\"{0} now: {1}, {2} °C.\"", StringComparison.Ordinal));
                var manifest = Path.Combine(copy, "pack.json");
                await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"version\": \"1.0.0\"", "\"version\": \"2.0.0\"", StringComparison.Ordinal));
                await RunDotnetAsync(copy, env, "pack", Path.Combine("src", "Acme.Weather"), "-c", "Release", "-o", output, "-v", "q", "-p:Version=2.0.0");
            });
    }

    /// <summary>
    /// A pack made from the <c>platform-pack</c> template (<c>dotnet new platform-pack -n Acme.Weather</c> against the SDK feed)
    /// and packed: <c>Acme.Weather.1.0.0.nupkg</c>.
    /// </summary>
    public static async Task<Build> TemplatePackAsync()
    {
        var sdk = await SdkFeedAsync();
        var template = TestPaths.InRepo("templates", "content", "platform-pack");
        return await GetAsync("template-pack", [template], [sdk], async (output, work) =>
        {
            var env = Env(Path.Combine(work, "nuget"));
            var hive = Path.Combine(work, "hive");
            await RunDotnetAsync(work, env, "new", "install", template, "--debug:custom-hive", hive);
            await RunDotnetAsync(work, env, "new", "platform-pack", "-n", "Acme.Weather", "--sdkFeed", sdk.Directory, "--debug:custom-hive", hive);
            await RunDotnetAsync(Path.Combine(work, "Acme.Weather"), env, "pack", Path.Combine("src", "Acme.Weather"), "-c", "Release", "-o", output);
        });
    }

    /// <summary>Environment for a dotnet command: a private NuGet cache (the SDK's version is reused with other bits), no telemetry.</summary>
    public static Dictionary<string, string> Env(string nugetCache) => new()
    {
        ["NUGET_PACKAGES"] = nugetCache, ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1",
    };

    /// <summary>Writes a nuget.config whose only source is <paramref name="feed"/>.</summary>
    public static Task WriteNuGetConfigAsync(string directory, string feed) => File.WriteAllTextAsync(Path.Combine(directory, "nuget.config"),
        $"""<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><add key="platform-sdk" value="{feed}" /></packageSources></configuration>""");

    /// <summary>Runs dotnet with arguments; throws with its output when it fails or takes more than five minutes.</summary>
    public static async Task<string> RunDotnetAsync(string directory, IReadOnlyDictionary<string, string> env, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} took more than five minutes: {await stdout}{await stderr}");
        }
        var output = await stdout + await stderr;
        if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet {string.Join(' ', args)} failed ({process.ExitCode}): {output}");
        return output;
    }

    private static Task<Build> GetAsync(string name, string[] sources, Build[] dependencies, Func<string, string, Task> build) =>
        Builds.GetOrAdd(name, _ => new Lazy<Task<Build>>(() => BuildAsync(name, sources, dependencies, build))).Value;

    private static async Task<Build> BuildAsync(string name, string[] sources, Build[] dependencies, Func<string, string, Task> build)
    {
        var hash = SourceHash(sources, dependencies);
        var cached = Environment.GetEnvironmentVariable("PLATFORM_TEST_PACK_CACHE") != "off";
        var root = Path.Combine(Path.GetTempPath(), "platform-pack-builds");
        var final = Path.Combine(root, $"{name}-{hash[..16]}");
        if (cached && File.Exists(Path.Combine(final, ".complete"))) return new Build(final, hash, Built: false, TimeSpan.Zero);

        // Build beside the final folder and move it in when complete, so a concurrent run never sees half a build.
        var staging = Path.Combine(root, $"{name}-{hash[..16]}.{Guid.NewGuid():N}");
        var output = Directory.CreateDirectory(Path.Combine(staging, "out")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(staging, "work")).FullName;
        var watch = Stopwatch.StartNew();
        try
        {
            await build(output, work);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
        var elapsed = watch.Elapsed;
        TryDelete(work);
        await File.WriteAllTextAsync(Path.Combine(output, ".complete"), hash);
        if (!cached) return new Build(output, hash, Built: true, elapsed);
        try
        {
            if (Directory.Exists(final) && !File.Exists(Path.Combine(final, ".complete"))) TryDelete(final);
            Directory.Move(output, final);
            TryDelete(staging);
            return new Build(final, hash, Built: true, elapsed);
        }
        catch (IOException) when (File.Exists(Path.Combine(final, ".complete")))
        {
            TryDelete(staging); // another run finished the same build first
            return new Build(final, hash, Built: true, elapsed);
        }
    }

    /// <summary>SHA-256 over the .NET version, the dependencies' hashes and every source file (path and bytes; bin and obj left out).</summary>
    private static string SourceHash(string[] sources, Build[] dependencies)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(Environment.Version + "\n"));
        foreach (var d in dependencies) sha.AppendData(Encoding.UTF8.GetBytes(d.Hash + "\n"));
        foreach (var source in sources)
        {
            var files = Directory.Exists(source)
                ? Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                    .Where(f => !Path.GetRelativePath(source, f).Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
                    .Order(StringComparer.Ordinal)
                : File.Exists(source) ? [source] : Enumerable.Empty<string>();
            foreach (var file in files)
            {
                sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(TestPaths.RepoRoot, file) + "\n"));
                sha.AppendData(File.ReadAllBytes(file));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
