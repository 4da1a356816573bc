using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Activities;

/// <summary>One stored configuration document: the JSON text of, for example, an intent set, a device or a data source.</summary>
/// <param name="Kind">The kind of document, for example <c>intent-sets</c>.</param>
/// <param name="Id">The id as last saved (ids are compared case-insensitively).</param>
/// <param name="Json">The document's JSON text, stored as given (secrets encrypted by the caller).</param>
/// <param name="Revision">Changes on every save; compare it for equality only.</param>
/// <param name="UpdatedAt">When it was last saved.</param>
public sealed record ConfigurationDocument(string Kind, string Id, string Json, long Revision, DateTimeOffset UpdatedAt);

/// <summary>The revision of one stored document, as answered by <see cref="IConfigurationDocuments.ListRevisionsAsync"/>.</summary>
/// <param name="Id">The id as last saved.</param>
/// <param name="Revision">Changes on every save.</param>
public sealed record ConfigurationRevision(string Id, long Revision);

/// <summary>
/// Configuration documents shared by every server node, keyed by (kind, id) with case-insensitive ids. The host keeps them in
/// the platform database, so an intent set, device or data source saved on one node is seen by the others. Packs read them
/// through <see cref="ConfigurationDocumentCache{T}"/>, which keeps them in memory and polls <see cref="ListRevisionsAsync"/>
/// to learn about changes made by other nodes.
/// </summary>
/// <remarks>Kinds are short lower-case names (at most 64 characters) such as <c>intent-sets</c>; ids at most 200 characters.</remarks>
public interface IConfigurationDocuments
{
    /// <summary>All documents of a kind, ordered by id.</summary>
    Task<IReadOnlyList<ConfigurationDocument>> ListAsync(string kind, CancellationToken cancellationToken = default);

    /// <summary>One document (case-insensitive id), or null.</summary>
    Task<ConfigurationDocument?> FindAsync(string kind, string id, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces a document (the id keeps the spelling given here) and answers it with its new revision.</summary>
    Task<ConfigurationDocument> SaveAsync(string kind, string id, string json, CancellationToken cancellationToken = default);

    /// <summary>Deletes a document; false when unknown.</summary>
    Task<bool> DeleteAsync(string kind, string id, CancellationToken cancellationToken = default);

    /// <summary>The id and revision of every document of a kind: a cheap query to find out what changed since the last look.</summary>
    Task<IReadOnlyList<ConfigurationRevision>> ListRevisionsAsync(string kind, CancellationToken cancellationToken = default);
}

/// <summary>
/// The documents of one kind in memory, over <see cref="IConfigurationDocuments"/>: reads never touch the database after the
/// first load; every <c>refreshInterval</c> one cheap revision query finds changes made by other nodes, which are loaded and
/// announced through <see cref="Changed"/>. Local saves and deletes update the memory and raise <see cref="Changed"/> at once.
/// </summary>
/// <typeparam name="T">The document type.</typeparam>
/// <remarks>A document that cannot be read (for example a secret encrypted under another key) is logged and left out of
/// <see cref="ListAsync"/>; <see cref="FindAsync"/> of its id throws the error, so callers can say how to recover.</remarks>
public sealed class ConfigurationDocumentCache<T> : IDisposable where T : class
{
    private readonly IConfigurationDocuments _documents;
    private readonly string _kind;
    private readonly Func<T, string> _idOf;
    private readonly Func<T, string> _serialize;
    private readonly Func<string, T> _deserialize;
    private readonly TimeSpan _refreshInterval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private volatile Dictionary<string, Entry>? _items;
    private bool _disposed;

    /// <summary>Creates the cache; nothing is read until first use.</summary>
    /// <param name="documents">The shared documents.</param>
    /// <param name="kind">The kind of document, for example <c>intent-sets</c>.</param>
    /// <param name="idOf">The id of an item.</param>
    /// <param name="serialize">Turns an item into the stored JSON (encrypt secrets here).</param>
    /// <param name="deserialize">Turns stored JSON into an item (decrypt secrets here); may throw for a document it cannot read.</param>
    /// <param name="refreshInterval">How often other nodes' changes are looked for; zero or less turns polling off.</param>
    /// <param name="logger">Logs documents that cannot be read and failed refreshes.</param>
    public ConfigurationDocumentCache(IConfigurationDocuments documents, string kind, Func<T, string> idOf, Func<T, string> serialize,
        Func<string, T> deserialize, TimeSpan refreshInterval, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(idOf);
        ArgumentNullException.ThrowIfNull(serialize);
        ArgumentNullException.ThrowIfNull(deserialize);
        _documents = documents;
        _kind = kind;
        _idOf = idOf;
        _serialize = serialize;
        _deserialize = deserialize;
        _refreshInterval = refreshInterval;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised with the id after an item was saved or deleted, on this node or (after the next refresh) on another.</summary>
    public event Action<string>? Changed;

    /// <summary>The kind of document.</summary>
    public string Kind => _kind;

    /// <summary>All items, ordered by id.</summary>
    public async Task<IReadOnlyList<T>> ListAsync(CancellationToken cancellationToken = default) =>
        (await LoadAsync(cancellationToken).ConfigureAwait(false)).Where(p => p.Value.Item is not null).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase)
        .Select(p => p.Value.Item!).ToList();

    /// <summary>One item (case-insensitive id), or null.</summary>
    /// <exception cref="Exception">The stored document cannot be read: the error its deserializer threw.</exception>
    public async Task<T?> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!(await LoadAsync(cancellationToken).ConfigureAwait(false)).TryGetValue(id ?? "", out var entry)) return null;
        entry.Error?.Throw();
        return entry.Item;
    }

    /// <summary>Adds or replaces an item in the shared store and in memory.</summary>
    public async Task SaveAsync(T item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        var id = _idOf(item);
        var json = _serialize(item);
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var saved = await _documents.SaveAsync(_kind, id, json, cancellationToken).ConfigureAwait(false);
            var copy = new Dictionary<string, Entry>(_items!, StringComparer.OrdinalIgnoreCase);
            copy.Remove(id); // keeps the new spelling of the id
            copy[id] = new Entry(id, item, saved.Revision, null);
            _items = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(id);
    }

    /// <summary>Deletes an item; false when unknown.</summary>
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        string removed;
        bool deleted;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var known = _items!.TryGetValue(id, out var entry);
            deleted = await _documents.DeleteAsync(_kind, id, cancellationToken).ConfigureAwait(false);
            if (!known && !deleted) return false;
            removed = known ? entry!.Id : id;
            var copy = new Dictionary<string, Entry>(_items!, StringComparer.OrdinalIgnoreCase);
            copy.Remove(id);
            _items = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(removed); // also when another node deleted it first: this node's copy is gone now
        return deleted;
    }

    /// <summary>Looks for changes made by other nodes now (the polling loop does this every refresh interval) and raises
    /// <see cref="Changed"/> for each id added, changed or removed.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        if (_items is null)
        {
            await LoadAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        List<string> changed;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = _items!;
            var revisions = await _documents.ListRevisionsAsync(_kind, cancellationToken).ConfigureAwait(false);
            var stored = revisions.ToDictionary(r => r.Id, r => r.Revision, StringComparer.OrdinalIgnoreCase);
            var differs = stored.Count != current.Count
                          || stored.Any(r => !current.TryGetValue(r.Key, out var e) || e.Revision != r.Value);
            if (!differs) return;
            var fresh = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
            changed = fresh.Where(p => !current.TryGetValue(p.Key, out var e) || e.Revision != p.Value.Revision).Select(p => p.Value.Id)
                .Concat(current.Where(p => !fresh.ContainsKey(p.Key)).Select(p => p.Value.Id)).ToList();
            _items = fresh;
        }
        finally { _gate.Release(); }
        foreach (var id in changed)
        {
            try { Changed?.Invoke(id); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "A listener of the {Kind} store failed on the change of {Id}", _kind, id);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        _stop.Dispose();
    }

    private async ValueTask<Dictionary<string, Entry>> LoadAsync(CancellationToken cancellationToken)
    {
        if (_items is { } items) return items;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_items is { } loaded) return loaded;
            var all = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
            _items = all;
            if (_refreshInterval > TimeSpan.Zero && !_disposed) _ = Task.Run(PollAsync, CancellationToken.None);
            return all;
        }
        finally { _gate.Release(); }
    }

    private async Task<Dictionary<string, Entry>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, Entry>(StringComparer.OrdinalIgnoreCase);
        foreach (var document in await _documents.ListAsync(_kind, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                result[document.Id] = new Entry(document.Id, _deserialize(document.Json), document.Revision, null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "The stored {Kind} document {Id} cannot be read and is left out: {Message}. Save it again, or fix the " +
                    "cause (for example, every node needs the same Platform:Secrets:Key)", _kind, document.Id, e.Message);
                result[document.Id] = new Entry(document.Id, null, document.Revision, ExceptionDispatchInfo.Capture(e));
            }
        }
        return result;
    }

    private async Task PollAsync()
    {
        CancellationToken stop;
        try { stop = _stop.Token; }
        catch (ObjectDisposedException) { return; }
        using var timer = new PeriodicTimer(_refreshInterval);
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(stop).ConfigureAwait(false);
                    if (failing) _logger.LogInformation("The {Kind} store is refreshed again", _kind);
                    failing = false;
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    if (!failing) _logger.LogWarning(e, "The {Kind} store could not look for changes made by other nodes; retrying every {Interval}", _kind, _refreshInterval);
                    failing = true;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    private sealed record Entry(string Id, T? Item, long Revision, ExceptionDispatchInfo? Error);
}
