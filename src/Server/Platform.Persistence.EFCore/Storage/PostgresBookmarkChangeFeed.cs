using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Engine.Stores;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// The bookmark change feed between nodes sharing one PostgreSQL database: a commit that creates bookmarks sends
/// <c>NOTIFY platform_bookmarks</c> with their names and keys; every node <c>LISTEN</c>s and forgets those pairs in its
/// <see cref="BookmarkAbsence"/>. While the listening connection is down, the absence set is off (every lookup queries).
/// </summary>
public sealed class PostgresBookmarkChangeFeed(PlatformDatabaseSettings settings, BookmarkAbsence absence, ILogger<PostgresBookmarkChangeFeed> logger)
    : BackgroundService, IBookmarkChangeFeed
{
    /// <summary>The notification channel.</summary>
    public const string Channel = "platform_bookmarks";

    // PostgreSQL refuses payloads of 8,000 bytes or more: larger sets go in several notifications.
    private const int MaxPayloadChars = 3_000;

    /// <summary>True while this node listens (tests).</summary>
    public bool Listening { get; private set; }

    /// <inheritdoc />
    public async Task PublishAsync(IReadOnlyCollection<(string Name, string Key)> added, CancellationToken ct = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(settings.ConnectionString);
            await connection.OpenAsync(ct).ConfigureAwait(false);
            foreach (var payload in Payloads(added))
            {
                await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
                command.Parameters.AddWithValue("channel", Channel);
                command.Parameters.AddWithValue("payload", payload);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The bookmarks are stored; other nodes find them once their "absent" answers expire (Platform:Engine:BookmarkAbsenceDuration).
            logger.LogWarning(e, "Could not announce {Count} new bookmark(s) to the other nodes; they see them within Platform:Engine:BookmarkAbsenceDuration.",
                added.Count);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { KeepAlive = 10, Pooling = false };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                connection.Notification += (_, e) => Forget(e.Payload);
                await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                absence.Enabled = true; // starts empty: nothing missed before this point can be in it
                Listening = true;
                logger.LogDebug("Listening for bookmark changes from other nodes.");
                while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "The bookmark change feed is down; bookmark lookups query the database until it reconnects.");
            }
            finally
            {
                Listening = false;
                absence.Enabled = false;
            }
            try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private void Forget(string payload)
    {
        try
        {
            var pairs = JsonSerializer.Deserialize<string[][]>(payload);
            if (pairs is null) return;
            absence.Forget(pairs.Where(p => p.Length == 2).Select(p => (p[0], p[1])));
        }
        catch (JsonException)
        {
            absence.Clear(); // not ours or damaged: forget everything rather than keep a wrong answer
        }
    }

    private static IEnumerable<string> Payloads(IReadOnlyCollection<(string Name, string Key)> added)
    {
        // Serialised with the default (ASCII-escaping) encoder, so characters and bytes agree.
        var batch = new List<string>();
        var size = 2;
        foreach (var (name, key) in added)
        {
            var pair = JsonSerializer.Serialize(new[] { name, key });
            if (pair.Length + 2 > MaxPayloadChars)
            {
                yield return "*"; // cannot be announced: a payload that is not JSON makes every listener forget everything
                continue;
            }
            if (size + pair.Length + 1 > MaxPayloadChars && batch.Count > 0)
            {
                yield return "[" + string.Join(',', batch) + "]";
                batch.Clear();
                size = 2;
            }
            batch.Add(pair);
            size += pair.Length + 1;
        }
        if (batch.Count > 0) yield return "[" + string.Join(',', batch) + "]";
    }
}
