using System.Diagnostics;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using Platform.Engine.Contracts;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Backs up and restores the platform database: SQLite with its online backup API (a consistent copy while the platform
/// writes), PostgreSQL with <c>pg_dump</c> / <c>pg_restore</c> (custom format, every schema, Hangfire's included).
/// </summary>
public sealed class PlatformDatabaseBackup(PlatformDatabaseSettings settings) : IDatabaseBackup
{
    private static readonly byte[] SqliteHeader = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <inheritdoc />
    public string FileExtension => settings.Provider == PlatformDatabaseProvider.Sqlite ? ".db" : ".dump";

    /// <inheritdoc />
    public async Task BackupAsync(string file, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        file = Path.GetFullPath(file);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // Written next to the target and renamed at the end, so a file with the final name is always complete.
        var partial = file + ".partial";
        try
        {
            if (settings.Provider == PlatformDatabaseProvider.Sqlite)
            {
                await using var source = new SqliteConnection(settings.ConnectionString);
                await source.OpenAsync(ct).ConfigureAwait(false);
                File.Delete(partial);
                await using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = partial, Pooling = false }.ToString());
                await target.OpenAsync(ct).ConfigureAwait(false);
                // One step under a read transaction: with WAL, writers go on meanwhile and the copy is one consistent snapshot.
                source.BackupDatabase(target);
            }
            else
                await RunAsync("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--file=" + partial], ct).ConfigureAwait(false);
            File.Move(partial, file, overwrite: true);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
    }

    /// <summary>
    /// Replaces the database's content with the backup in <paramref name="file"/>. Stop every server using the database first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is missing or not a backup of this provider, or the restore failed; the message says why.</exception>
    public async Task RestoreAsync(string file, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        file = Path.GetFullPath(file);
        if (!File.Exists(file)) throw new InvalidOperationException($"The backup file '{file}' does not exist.");
        var isSqlite = await HasSqliteHeaderAsync(file, ct).ConfigureAwait(false);
        if (settings.Provider == PlatformDatabaseProvider.Sqlite)
        {
            if (!isSqlite)
                throw new InvalidOperationException($"'{file}' is not a SQLite database, so it is not a backup of this (SQLite) platform. A PostgreSQL backup restores into a platform configured with Platform:Database:Provider=PostgreSql.");
            var builder = new SqliteConnectionStringBuilder(settings.ConnectionString);
            if (Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } directory) Directory.CreateDirectory(directory);
            await using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
            await source.OpenAsync(ct).ConfigureAwait(false);
            builder.Pooling = false;
            await using var target = new SqliteConnection(builder.ToString());
            await target.OpenAsync(ct).ConfigureAwait(false);
            source.BackupDatabase(target);
        }
        else
        {
            if (isSqlite)
                throw new InvalidOperationException($"'{file}' is a SQLite database; this platform uses PostgreSQL. Restore it into a platform configured with Platform:Database:Provider=Sqlite.");
            await RunAsync("pg_restore", ["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", file], ct).ConfigureAwait(false);
        }
    }

    private static async Task<bool> HasSqliteHeaderAsync(string file, CancellationToken ct)
    {
        var buffer = new byte[SqliteHeader.Length];
        await using var stream = File.OpenRead(file);
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        return read == buffer.Length && buffer.AsSpan().SequenceEqual(SqliteHeader);
    }

    // pg_dump / pg_restore with the connection in libpq's variables (the password never appears on a command line).
    private async Task RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var path = FindOnPath(tool) ?? throw new InvalidOperationException(
            $"{tool} was not found on PATH; it backs up and restores PostgreSQL. Install the Debian package postgresql-client (apt-get install postgresql-client), in a version at least the server's.");
        var connection = new NpgsqlConnectionStringBuilder(settings.ConnectionString);
        var start = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        if (connection.Host is { } host) start.Environment["PGHOST"] = host.Split(',')[0];
        start.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (connection.Username is { } user) start.Environment["PGUSER"] = user;
        if (connection.Password is { } password) start.Environment["PGPASSWORD"] = password;
        if (connection.Database is { } database) start.Environment["PGDATABASE"] = database;
        if (connection.SslMode != SslMode.Disable && connection.SslMode != SslMode.Prefer)
            start.Environment["PGSSLMODE"] = connection.SslMode.ToString().ToLowerInvariant().Replace("verifyca", "verify-ca").Replace("verifyfull", "verify-full");
        if (tool == "pg_restore") start.ArgumentList.Insert(start.ArgumentList.Count - 1, "--dbname=" + (connection.Database ?? "postgres"));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        try { await process.WaitForExitAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var error = (await stderr.ConfigureAwait(false)).Trim();
        await stdout.ConfigureAwait(false);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} failed (exit code {process.ExitCode}): {error}");
    }

    private static string? FindOnPath(string tool)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, tool);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
