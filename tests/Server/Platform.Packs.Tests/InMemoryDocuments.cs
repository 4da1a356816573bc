using System.Collections.Concurrent;
using Platform.Activities;

namespace Platform.Packs.Tests;

/// <summary>Configuration documents in memory, shared by the "nodes" of a test (the real store is covered by the server tests).</summary>
public sealed class InMemoryDocuments : IConfigurationDocuments
{
    private readonly ConcurrentDictionary<(string, string), ConfigurationDocument> _docs = new();
    private long _revision;

    private static (string, string) Key(string kind, string id) => (kind, id.ToLowerInvariant());

    public Task<IReadOnlyList<ConfigurationDocument>> ListAsync(string kind, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ConfigurationDocument>>(_docs.Values.Where(d => d.Kind == kind).OrderBy(d => d.Id).ToList());

    public Task<ConfigurationDocument?> FindAsync(string kind, string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_docs.GetValueOrDefault(Key(kind, id)));

    public Task<ConfigurationDocument> SaveAsync(string kind, string id, string json, CancellationToken cancellationToken = default)
    {
        var doc = new ConfigurationDocument(kind, id, json, Interlocked.Increment(ref _revision), DateTimeOffset.UtcNow);
        _docs[Key(kind, id)] = doc;
        return Task.FromResult(doc);
    }

    public Task<bool> DeleteAsync(string kind, string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(_docs.TryRemove(Key(kind, id), out _));

    public Task<IReadOnlyList<ConfigurationRevision>> ListRevisionsAsync(string kind, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ConfigurationRevision>>(_docs.Values.Where(d => d.Kind == kind).Select(d => new ConfigurationRevision(d.Id, d.Revision)).ToList());
}
