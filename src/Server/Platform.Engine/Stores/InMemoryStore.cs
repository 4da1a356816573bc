using System.Text.Json;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Models;

namespace Platform.Engine.Stores;

/// <summary>
/// All engine stores in memory (tests, benchmarks, and hosts without a database). Values are copied in and out through JSON,
/// as a database would, so callers never share mutable state with the store.
/// </summary>
public sealed partial class InMemoryStore : IWorkflowDefinitionStore, IWorkflowInstanceStore, IWorkflowCommitStore, IBookmarkStore, ITriggerStore, IActivityExecutionStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, WorkflowDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredBookmark> _bookmarks = new(StringComparer.Ordinal);
    private readonly List<StoredTrigger> _triggers = [];
    private readonly Dictionary<string, string> _journal = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string InstanceId, string NodeId, long Sequence)> _journalIndex = new(StringComparer.Ordinal);

    private static T Copy<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, ValueConverter.JsonOptions), ValueConverter.JsonOptions)!;

    // Definitions
    public Task<WorkflowDefinition?> FindAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(Filter(filter).OrderByDescending(d => d.Version).FirstOrDefault()?.Clone());
    }

    public Task<Page<WorkflowDefinition>> FindManyAsync(WorkflowDefinitionFilter filter, PageArgs page, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var all = Filter(filter).OrderBy(d => d.Name).ThenBy(d => d.DefinitionId).ThenBy(d => d.Version).ToList();
            return Task.FromResult(new Page<WorkflowDefinition>(all.Skip(page.Skip).Take(page.Take).Select(d => d.Clone()).ToList(), all.Count));
        }
    }

    public Task SaveManyAsync(IEnumerable<WorkflowDefinition> definitions, CancellationToken ct = default)
    {
        lock (_gate) foreach (var d in definitions) _definitions[d.Id] = d.Clone();
        return Task.CompletedTask;
    }

    public Task<int> DeleteManyAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var ids = Filter(filter).Select(d => d.Id).ToList();
            foreach (var id in ids) _definitions.Remove(id);
            return Task.FromResult(ids.Count);
        }
    }

    private IEnumerable<WorkflowDefinition> Filter(WorkflowDefinitionFilter f) => _definitions.Values.Where(d =>
        (f.Id is null || d.Id == f.Id) && (f.DefinitionId is null || d.DefinitionId == f.DefinitionId) &&
        (f.DefinitionIds is null || f.DefinitionIds.Contains(d.DefinitionId)) && (f.VersionOptions is null || f.VersionOptions.Value.Matches(d)) &&
        (f.Name is null || d.Name == f.Name) && (f.IsSystem is null || d.IsSystem == f.IsSystem) &&
        (f.SearchTerm is null || (d.Name?.Contains(f.SearchTerm, StringComparison.OrdinalIgnoreCase) ?? false)
                              || (d.Description?.Contains(f.SearchTerm, StringComparison.OrdinalIgnoreCase) ?? false)
                              || d.DefinitionId.Contains(f.SearchTerm, StringComparison.OrdinalIgnoreCase)));

    // Instances
    public Task<WorkflowInstance?> FindAsync(string id, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_instances.TryGetValue(id, out var json) ? Read<WorkflowInstance>(json) : null);
    }

    public Task<Page<WorkflowInstance>> FindManyAsync(WorkflowInstanceFilter filter, PageArgs page, InstanceOrderBy orderBy = InstanceOrderBy.CreatedAt,
        bool descending = true, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var all = _instances.Values.Select(Read<WorkflowInstance>).Where(i => Matches(filter, i));
            Func<WorkflowInstance, object?> key = orderBy switch
            {
                InstanceOrderBy.UpdatedAt => i => i.UpdatedAt,
                InstanceOrderBy.FinishedAt => i => i.FinishedAt,
                InstanceOrderBy.Name => i => i.Name,
                _ => i => i.CreatedAt,
            };
            var list = (descending ? all.OrderByDescending(key) : all.OrderBy(key)).ToList();
            return Task.FromResult(new Page<WorkflowInstance>(list.Skip(page.Skip).Take(page.Take).ToList(), list.Count));
        }
    }

    public Task<int> DeleteManyAsync(WorkflowInstanceFilter filter, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var ids = _instances.Values.Select(Read<WorkflowInstance>).Where(i => Matches(filter, i)).Select(i => i.Id).ToHashSet();
            foreach (var id in ids) _instances.Remove(id);
            foreach (var b in _bookmarks.Values.Where(b => ids.Contains(b.WorkflowInstanceId)).ToList()) _bookmarks.Remove(b.Id);
            foreach (var j in _journalIndex.Where(p => ids.Contains(p.Value.InstanceId)).ToList()) { _journalIndex.Remove(j.Key); _journal.Remove(j.Key); }
            return Task.FromResult(ids.Count);
        }
    }

    private static bool Matches(WorkflowInstanceFilter f, WorkflowInstance i) =>
        (f.Id is null || i.Id == f.Id) && (f.Ids is null || f.Ids.Contains(i.Id)) && (f.DefinitionId is null || i.DefinitionId == f.DefinitionId) &&
        (f.DefinitionIds is null || f.DefinitionIds.Contains(i.DefinitionId)) && (f.DefinitionVersionId is null || i.DefinitionVersionId == f.DefinitionVersionId) &&
        (f.CorrelationId is null || i.CorrelationId == f.CorrelationId) && (f.Statuses is null || f.Statuses.Contains(i.Status)) &&
        (f.SubStatuses is null || f.SubStatuses.Contains(i.SubStatus)) &&
        (f.SearchTerm is null || new[] { i.Name, i.Id, i.CorrelationId, i.DefinitionId }.Any(s => s?.Contains(f.SearchTerm, StringComparison.OrdinalIgnoreCase) ?? false));

    // Commit
    public Task CommitAsync(WorkflowCommit commit, CancellationToken ct = default)
    {
        if (!commit.IncludesInstance)
        {
            lock (_gate) CommitMessages(commit);
            return Task.CompletedTask;
        }
        var instanceJson = JsonSerializer.Serialize(commit.Instance, ValueConverter.JsonOptions);
        var journal = commit.Journal.Select(r => (r, JsonSerializer.Serialize(r, ValueConverter.JsonOptions))).ToList();
        lock (_gate)
        {
            _instances[commit.Instance.Id] = instanceJson;
            foreach (var b in _bookmarks.Values.Where(b => b.WorkflowInstanceId == commit.Instance.Id).ToList()) _bookmarks.Remove(b.Id);
            foreach (var b in commit.Bookmarks) _bookmarks[b.Id] = Copy(b);
            foreach (var (r, json) in journal)
            {
                _journal[r.Id] = json;
                _journalIndex[r.Id] = (r.WorkflowInstanceId, r.ActivityNodeId, r.Sequence);
            }
            CommitMessages(commit);
        }
        return Task.CompletedTask;
    }

    // Bookmarks
    public Task<IReadOnlyList<StoredBookmark>> FindAsync(string name, string? key, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<StoredBookmark>>(_bookmarks.Values.Where(b => b.Name == name && (key is null || b.Key == key)).Select(Copy).ToList());
    }

    public Task<IReadOnlyList<StoredBookmark>> FindByInstanceAsync(string workflowInstanceId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<StoredBookmark>>(_bookmarks.Values.Where(b => b.WorkflowInstanceId == workflowInstanceId).Select(Copy).ToList());
    }

    public Task<StoredBookmark?> FindByIdAsync(string bookmarkId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult(_bookmarks.TryGetValue(bookmarkId, out var b) ? Copy(b) : null);
    }

    public Task<IReadOnlyList<StoredBookmark>> FindDueAsync(DateTimeOffset before, int take, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<StoredBookmark>>(_bookmarks.Values.Where(b => b.ResumeAt <= before).OrderBy(b => b.ResumeAt).Take(take).Select(Copy).ToList());
    }

    // Triggers
    public Task ReplaceAsync(string definitionId, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct = default)
    {
        lock (_gate)
        {
            _triggers.RemoveAll(t => t.DefinitionId == definitionId);
            _triggers.AddRange(triggers.Select(Copy));
        }
        return Task.CompletedTask;
    }

    Task<IReadOnlyList<StoredTrigger>> ITriggerStore.FindAsync(string name, string? key, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<StoredTrigger>>(_triggers.Where(t => t.Name == name && (t.Key is null || t.Key == key)).Select(Copy).ToList());
    }

    public Task<IReadOnlyList<StoredTrigger>> FindByNameAsync(string name, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<StoredTrigger>>(_triggers.Where(t => t.Name == name).Select(Copy).ToList());
    }

    // Journal
    Task<ActivityExecutionRecord?> IActivityExecutionStore.FindAsync(string id, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_journal.TryGetValue(id, out var json) ? Read<ActivityExecutionRecord>(json) : null);
    }

    public Task<Page<ActivityExecutionRecord>> FindManyAsync(ActivityExecutionFilter filter, PageArgs page, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var ids = _journalIndex.Where(p => (filter.WorkflowInstanceId is null || p.Value.InstanceId == filter.WorkflowInstanceId)
                                               && (filter.ActivityNodeId is null || p.Value.NodeId == filter.ActivityNodeId))
                .OrderBy(p => p.Value.Sequence).Select(p => p.Key).ToList();
            var items = ids.Select(id => Read<ActivityExecutionRecord>(_journal[id]))
                .Where(r => filter.ActivityId is null || r.ActivityId == filter.ActivityId).ToList();
            return Task.FromResult(new Page<ActivityExecutionRecord>(items.Skip(page.Skip).Take(page.Take).ToList(), items.Count));
        }
    }

    private static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, ValueConverter.JsonOptions)!;
}
