using System.Data;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Platform.Activities.Data;
using Platform.Activities.Security;
using Platform.Messaging;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Server.Security;

/// <summary>What a rotation found in one place that stores secrets.</summary>
/// <param name="Area">The place: <c>channels</c> or <c>data-sources</c>.</param>
/// <param name="Items">Rows looked at.</param>
/// <param name="Rotated">Secret values encrypted again under the active key.</param>
/// <param name="Current">Secret values already under the active key (left as they are).</param>
/// <param name="Unreadable">Secret values that could not be decrypted (see <see cref="SecretRotationReport.Problems"/>).</param>
public sealed record SecretRotationArea(string Area, int Items, int Rotated, int Current, int Unreadable);

/// <summary>The outcome of <see cref="SecretRotation.RotateAsync"/>.</summary>
/// <param name="ActiveKeyId">The key every readable secret is now under.</param>
/// <param name="KeyIds">The configured keys.</param>
/// <param name="Rotated">Secret values encrypted again, in all.</param>
/// <param name="Current">Secret values that already were under the active key.</param>
/// <param name="Unreadable">Secret values that could not be decrypted; they are left as they are.</param>
/// <param name="Areas">The counts per place.</param>
/// <param name="Problems">One line per unreadable value: where it is and why (for example the key id that is not configured).</param>
public sealed record SecretRotationReport(string ActiveKeyId, IReadOnlyList<string> KeyIds, int Rotated, int Current, int Unreadable,
    IReadOnlyList<SecretRotationArea> Areas, IReadOnlyList<string> Problems);

/// <summary>
/// Re-encrypts every stored secret under the active key (<c>Platform:Secrets:ActiveKeyId</c>): the secret settings of the
/// channels in the <c>channels</c> table and the connection strings of the data sources (configuration documents of kind
/// <c>data-sources</c>). Works in batches of <see cref="BatchSize"/> rows, each in one transaction (repeatable read, so a
/// concurrent change by another node makes the batch start again instead of being overwritten). Idempotent: values already
/// under the active key are not touched, so a second run reports 0 rotated. Values that cannot be read are counted and named,
/// never changed. Other nodes see the data sources again within their refresh interval (the documents get a new revision).
/// The web chat tokens and the Hangfire dashboard cookie are not stored: they are read with whichever configured key sealed
/// them and are sealed again under the active key when they are renewed.
/// </summary>
public sealed class SecretRotation(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate, SecretProtector protector, ILogger<SecretRotation> logger)
{
    /// <summary>Rows per batch (one transaction each).</summary>
    public const int BatchSize = 100;

    private const int MaxProblems = 100;

    /// <summary>Re-encrypts every stored secret that is not under the active key; answers the counts.</summary>
    public async Task<SecretRotationReport> RotateAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var channels = await RotateAreaAsync<ChannelEntity>("channels", problems,
            (db, after) => db.Set<ChannelEntity>().AsTracking().Where(c => after == null || string.Compare(c.Name, after) > 0).OrderBy(c => c.Name),
            c => c.Name, RotateChannel, cancellationToken).ConfigureAwait(false);
        var dataSources = await RotateAreaAsync<ConfigurationDocumentEntity>("data-sources", problems,
            (db, after) => db.Set<ConfigurationDocumentEntity>().AsTracking()
                .Where(d => d.Kind == DocumentDataSourceStore.Kind && (after == null || string.Compare(d.Key, after) > 0)).OrderBy(d => d.Key),
            d => d.Key, RotateDataSource, cancellationToken).ConfigureAwait(false);
        var areas = new[] { channels, dataSources };
        var report = new SecretRotationReport(protector.ActiveKeyId, protector.KeyIds.Order(StringComparer.Ordinal).ToList(),
            areas.Sum(a => a.Rotated), areas.Sum(a => a.Current), areas.Sum(a => a.Unreadable), areas, problems);
        logger.LogInformation("Secret rotation to key {ActiveKeyId}: {Rotated} re-encrypted, {Current} already current, {Unreadable} unreadable " +
            "(channels {ChannelsRotated}, data sources {DataSourcesRotated})", report.ActiveKeyId, report.Rotated, report.Current, report.Unreadable,
            channels.Rotated, dataSources.Rotated);
        foreach (var problem in problems) logger.LogWarning("Secret rotation could not read {Problem}", problem);
        return report;
    }

    private delegate (int Rotated, int Current, int Unreadable) RowRotator<in T>(T row, List<string> problems);

    private async Task<SecretRotationArea> RotateAreaAsync<T>(string area, List<string> problems,
        Func<PlatformDbContext, string?, IQueryable<T>> page, Func<T, string> keyOf, RowRotator<T> rotate, CancellationToken ct) where T : class
    {
        int items = 0, rotated = 0, current = 0, unreadable = 0;
        string? after = null;
        while (true)
        {
            for (var attempt = 1; ; attempt++)
            {
                var batchProblems = new List<string>();
                int batchRotated = 0, batchCurrent = 0, batchUnreadable = 0;
                List<T> rows;
                try
                {
                    using (await gate.EnterAsync(ct).ConfigureAwait(false))
                    {
                        await using var db = await factory.CreateDbContextAsync(ct).ConfigureAwait(false);
                        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
                        rows = await page(db, after).Take(BatchSize).ToListAsync(ct).ConfigureAwait(false);
                        foreach (var row in rows)
                        {
                            var (r, c, u) = rotate(row, batchProblems);
                            batchRotated += r;
                            batchCurrent += c;
                            batchUnreadable += u;
                        }
                        if (batchRotated > 0) await db.SaveChangesAsync(ct).ConfigureAwait(false);
                        await transaction.CommitAsync(ct).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (attempt < 5 && e is DbUpdateException or Npgsql.PostgresException { SqlState: "40001" or "40P01" })
                {
                    // Another node changed a row of this batch meanwhile (serialization failure): read the batch again.
                    logger.LogDebug(e, "Secret rotation batch of {Area} after {After} conflicted; attempt {Attempt}", area, after, attempt);
                    await Task.Delay(50 * attempt, ct).ConfigureAwait(false);
                    continue;
                }
                items += rows.Count;
                rotated += batchRotated;
                current += batchCurrent;
                unreadable += batchUnreadable;
                foreach (var p in batchProblems) if (problems.Count < MaxProblems) problems.Add(p);
                if (rows.Count < BatchSize) return new SecretRotationArea(area, items, rotated, current, unreadable);
                after = keyOf(rows[^1]);
                break;
            }
        }
    }

    private (int, int, int) RotateChannel(ChannelEntity row, List<string> problems)
    {
        if (JsonNode.Parse(row.Settings) is not JsonObject settings) return (0, 0, 0);
        int rotated = 0, current = 0, unreadable = 0;
        foreach (var key in settings.Select(p => p.Key).ToList())
        {
            if (!ChannelConfig.SecretSettings.Contains(key) || settings[key] is not JsonValue v || !v.TryGetValue<string>(out var value)
                || !SecretProtector.IsProtected(value)) continue;
            if (!protector.NeedsRotation(value))
            {
                current++;
                continue;
            }
            try
            {
                settings[key] = protector.Reprotect(value, EfChannelStore.SecretAssociatedData(row.Name, key));
                rotated++;
            }
            catch (SecretDecryptionException e)
            {
                unreadable++;
                problems.Add($"channel '{row.Name}' setting '{key}': {e.Message}");
            }
        }
        if (rotated > 0) row.Settings = settings.ToJsonString();
        return (rotated, current, unreadable);
    }

    private (int, int, int) RotateDataSource(ConfigurationDocumentEntity row, List<string> problems)
    {
        if (JsonNode.Parse(row.Json) is not JsonObject document) return (0, 0, 0);
        var field = document.ContainsKey("connectionString") ? "connectionString" : document.Select(p => p.Key)
            .FirstOrDefault(k => string.Equals(k, "connectionString", StringComparison.OrdinalIgnoreCase));
        if (field is null || document[field] is not JsonValue v || !v.TryGetValue<string>(out var value) || !SecretProtector.IsProtected(value)) return (0, 0, 0);
        if (!protector.NeedsRotation(value)) return (0, 1, 0);
        try
        {
            document[field] = protector.Reprotect(value);
        }
        catch (SecretDecryptionException e)
        {
            problems.Add($"data source '{row.Id}': {e.Message}");
            return (0, 0, 1);
        }
        row.Json = document.ToJsonString();
        // A new revision, as a save gives, so every node's cache reads the document again.
        var floor = DateTimeOffset.UtcNow.UtcTicks;
        row.Revision = row.Revision + 1 > floor ? row.Revision + 1 : floor;
        row.UpdatedAt = DateTimeOffset.UtcNow;
        return (1, 0, 0);
    }
}
