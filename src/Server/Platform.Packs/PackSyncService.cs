using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Platform.Packs;

/// <summary>
/// Loads the stored packs at start, then every <see cref="PackOptions.RefreshInterval"/> picks up packs installed, changed or
/// removed on other nodes and installs the .nupkg files dropped into the drop folder (<c>&lt;data directory&gt;/packs</c>).
/// A dropped file is deleted once installed; one that fails is renamed to <c>.failed</c> with the reason beside it in
/// <c>.error.txt</c>.
/// </summary>
public sealed class PackSyncService(PackManager manager, IOptions<PackOptions> options, ILogger<PackSyncService> logger) : BackgroundService
{
    /// <summary>Who installs dropped packages, as recorded.</summary>
    public const string DropFolderUser = "drop-folder";

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.RefreshInterval > TimeSpan.Zero ? options.Value.RefreshInterval : TimeSpan.FromSeconds(2);
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                await manager.RefreshAsync(stoppingToken).ConfigureAwait(false);
                await ScanDropFolderAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                logger.LogError(e, "Refreshing the packs failed; trying again in {Interval}", interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Installs every .nupkg in the drop folder once.</summary>
    public async Task ScanDropFolderAsync(CancellationToken cancellationToken)
    {
        var folder = options.Value.DropFolder;
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder)) return;
        foreach (var file in Directory.EnumerateFiles(folder, "*.nupkg").Order(StringComparer.Ordinal))
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                continue; // still being written: next round
            }
            try
            {
                var (pack, _) = await manager.InstallAsync(bytes, DropFolderUser, "drop-folder", cancellationToken).ConfigureAwait(false);
                File.Delete(file);
                logger.LogInformation("Installed the dropped pack {File}: {Id} {Version}", Path.GetFileName(file), pack.Id, pack.Version);
            }
            catch (PackException e)
            {
                logger.LogError("The dropped pack {File} cannot be installed: {Message} {Fix}", Path.GetFileName(file), e.Message, e.Fix);
                await File.WriteAllTextAsync(file + ".error.txt", $"{e.Message}{Environment.NewLine}{e.Fix}{Environment.NewLine}", cancellationToken).ConfigureAwait(false);
                File.Move(file, file + ".failed", overwrite: true);
            }
        }
    }
}
