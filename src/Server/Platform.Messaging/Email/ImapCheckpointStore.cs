using System.Collections.Concurrent;
using System.Text.Json;

namespace Platform.Messaging.Email;

/// <summary>How far a channel's IMAP listener got: the folder's UIDVALIDITY and the highest UID handed to the inbox.</summary>
/// <param name="Folder">The folder.</param>
/// <param name="UidValidity">The folder's UIDVALIDITY when <paramref name="LastUid"/> was stored; UIDs mean nothing under another value.</param>
/// <param name="LastUid">The highest UID stored in the inbox.</param>
/// <param name="UpdatedAt">When it was written.</param>
public sealed record ImapCheckpoint(string Folder, uint UidValidity, uint LastUid, DateTimeOffset UpdatedAt);

/// <summary>
/// IMAP checkpoints, one small JSON file per channel: <c>{directory}/{channel}.json</c> (by default
/// <c>{DataDirectory}/channels/email</c>). Written atomically (temporary file, then rename) after every mail stored in the inbox,
/// so a restart resumes after the last stored mail; a crash between storing and writing re-reads that one mail, which the
/// inbox drops as a duplicate (same Message-ID).
/// </summary>
public sealed class ImapCheckpointStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    /// <summary>Creates the store over <paramref name="directory"/> (created on first write).</summary>
    public ImapCheckpointStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The folder holding the files.</summary>
    public string Directory { get; }

    /// <summary>The file of a channel.</summary>
    public string PathOf(string channel)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        if (!EfChannelStore.IsValidName(channel)) throw new ArgumentException($"'{channel}' is not a valid channel name.", nameof(channel));
        return Path.Combine(Directory, channel + ".json");
    }

    /// <summary>The checkpoint of a channel, or null when it has none (or the file is unreadable, which is treated as none).</summary>
    public async Task<ImapCheckpoint?> LoadAsync(string channel, CancellationToken ct = default)
    {
        var path = PathOf(channel);
        if (!File.Exists(path)) return null;
        try
        {
            await using var stream = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<ImapCheckpoint>(stream, Json, ct).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes the checkpoint of a channel atomically.</summary>
    public async Task SaveAsync(string channel, ImapCheckpoint checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var path = PathOf(channel);
        var gate = _locks.GetOrAdd(channel, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var temp = $"{path}.{Environment.ProcessId}.tmp";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(checkpoint, Json), ct).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes the checkpoint of a channel (the next start reads the folder's unread mail again).</summary>
    public void Delete(string channel)
    {
        var path = PathOf(channel);
        if (File.Exists(path)) File.Delete(path);
    }
}

/// <summary>
/// The References of recently received mail by Message-ID, so that a reply carries the whole thread in its References header.
/// In memory and bounded; a reply sent by a node that did not receive the mail refers to the answered mail only.
/// </summary>
public sealed class EmailThreadIndex
{
    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _references = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>Remembers the References (oldest first) of the mail with <paramref name="messageId"/>.</summary>
    public void Remember(string messageId, IReadOnlyList<string> references)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        if (_references.TryAdd(messageId, references)) _order.Enqueue(messageId);
        while (_order.Count > Capacity && _order.TryDequeue(out var old)) _references.TryRemove(old, out _);
    }

    /// <summary>The References header of a reply to <paramref name="messageId"/>: its References, then itself.</summary>
    public IReadOnlyList<string> ReplyReferences(string messageId) =>
        _references.TryGetValue(messageId, out var earlier) ? [.. earlier.Where(r => r != messageId), messageId] : [messageId];
}
