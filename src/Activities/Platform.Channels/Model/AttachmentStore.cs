using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Platform.Channels;

/// <summary>An attachment kept by an <see cref="IAttachmentStore"/>; messages refer to it by <see cref="Id"/> (or
/// <see cref="AttachmentStoreUrls.Download"/>), never carry its bytes.</summary>
/// <param name="Id">The id: 32 lowercase hex digits.</param>
/// <param name="Name">The file name as received (for display and <c>Content-Disposition</c>).</param>
/// <param name="ContentType">The MIME type.</param>
/// <param name="Size">The size in bytes.</param>
/// <param name="Sha256">The SHA-256 of the content, lowercase hex.</param>
/// <param name="CreatedAt">When it was stored.</param>
/// <param name="Channel">The channel it came in on or goes out on, or null.</param>
public sealed record StoredAttachment(string Id, string Name, string ContentType, long Size, string Sha256, DateTimeOffset CreatedAt, string? Channel);

/// <summary>
/// Where attachments go: streamed in (never held whole in memory, never base64 in database rows), read back as a stream,
/// and purged by the retention job. The default is <see cref="FileAttachmentStore"/> in the data directory.
/// </summary>
public interface IAttachmentStore
{
    /// <summary>Copies <paramref name="content"/> into the store in chunks, checking <paramref name="policy"/> (type first,
    /// then the size as the bytes arrive). Throws <see cref="AttachmentTooLargeException"/> or
    /// <see cref="AttachmentTypeNotAllowedException"/>, leaving nothing behind.</summary>
    Task<StoredAttachment> SaveAsync(Stream content, string name, string contentType, string? channel, AttachmentPolicy policy,
        CancellationToken cancellationToken = default);

    /// <summary>The attachment <paramref name="id"/>, or null (also for ids that are not well-formed).</summary>
    Task<StoredAttachment?> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Opens the content of <paramref name="id"/> for reading, or null.</summary>
    Task<Stream?> OpenReadAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Deletes attachments stored before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}

/// <summary>The URLs of stored attachments.</summary>
public static class AttachmentStoreUrls
{
    /// <summary>The authenticated download route prefix.</summary>
    public const string Prefix = "/api/attachments";

    /// <summary>The scheme of an attachment reference in <see cref="MessageAttachment.SourceUri"/>: <c>attachment:&lt;id&gt;</c>.</summary>
    public const string Scheme = "attachment:";

    /// <summary>The download URL of <paramref name="id"/>, relative to the server.</summary>
    public static string Download(string id) => $"{Prefix}/{Uri.EscapeDataString(id)}";
}

/// <summary>
/// Attachments as files: <c>&lt;directory&gt;/&lt;first two hex digits&gt;/&lt;id&gt;.bin</c> with a <c>.json</c> beside it
/// (name, type, size, hash, time). Written to a <c>.part</c> file in 80 KB chunks and renamed when complete, so a reader
/// never sees half a file and a crash leaves only a <c>.part</c> that the purge removes.
/// </summary>
public sealed class FileAttachmentStore : IAttachmentStore
{
    private const int ChunkSize = 81920;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _directory;
    private readonly TimeProvider _time;

    /// <summary>Creates the store in <paramref name="directory"/> (created when missing).</summary>
    public FileAttachmentStore(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = Path.GetFullPath(directory);
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(_directory);
    }

    /// <summary>The directory.</summary>
    public string RootDirectory => _directory;

    /// <summary>True when <paramref name="id"/> is 32 lowercase hex digits (so it can never name a path outside the store).</summary>
    public static bool IsValidId(string? id) => id is { Length: 32 } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <inheritdoc />
    public async Task<StoredAttachment> SaveAsync(Stream content, string name, string contentType, string? channel, AttachmentPolicy policy,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(policy);
        name = SafeName(name);
        contentType = string.IsNullOrWhiteSpace(contentType) ? "application/octet-stream" : contentType.Trim();
        policy.EnsureTypeAllowed(name, contentType);

        var id = Guid.CreateVersion7().ToString("N");
        var folder = Path.Combine(_directory, id[..2]);
        Directory.CreateDirectory(folder);
        var part = Path.Combine(folder, id + ".part");
        long size = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            await using (var file = new FileStream(part, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1,
                             FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                int read;
                while ((read = await content.ReadAsync(buffer.AsMemory(0, ChunkSize), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    size += read;
                    policy.EnsureAllowed(name, size); // stops at the first chunk past the limit
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }
            }

            var stored = new StoredAttachment(id, name, contentType, size, Convert.ToHexStringLower(hash.GetHashAndReset()), _time.GetUtcNow(), channel);
            await File.WriteAllTextAsync(Path.Combine(folder, id + ".json"), JsonSerializer.Serialize(stored, Json), cancellationToken).ConfigureAwait(false);
            File.Move(part, Path.Combine(folder, id + ".bin"));
            return stored;
        }
        catch
        {
            TryDelete(part);
            TryDelete(Path.Combine(folder, id + ".json"));
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public async Task<StoredAttachment?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return null;
        }

        var meta = Path.Combine(_directory, id[..2], id + ".json");
        if (!File.Exists(meta) || !File.Exists(Path.Combine(_directory, id[..2], id + ".bin")))
        {
            return null;
        }

        try
        {
            await using var stream = File.OpenRead(meta);
            return await JsonSerializer.DeserializeAsync<StoredAttachment>(stream, Json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public Task<Stream?> OpenReadAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(id))
        {
            return Task.FromResult<Stream?>(null);
        }

        try
        {
            return Task.FromResult<Stream?>(new FileStream(Path.Combine(_directory, id[..2], id + ".bin"), FileMode.Open, FileAccess.Read,
                FileShare.Read | FileShare.Delete, ChunkSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    /// <inheritdoc />
    public Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(_directory, "*.*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var extension = Path.GetExtension(file);
            if (extension is not (".bin" or ".part") || File.GetLastWriteTimeUtc(file) >= cutoff.UtcDateTime)
            {
                continue;
            }

            TryDelete(Path.ChangeExtension(file, ".json"));
            if (TryDelete(file) && extension == ".bin")
            {
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }

    private static string SafeName(string? name)
    {
        var file = Path.GetFileName((name ?? "").Replace('\\', '/'));
        var clean = new string([.. file.Where(c => !char.IsControl(c) && c is not ('"' or '/' or '\\'))]).Trim();
        return clean.Length == 0 ? "attachment" : clean.Length > 200 ? clean[..200] : clean;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
