namespace Platform.Activities;

/// <summary>
/// One row of the audit trail (the <c>audit_log</c> table): who did what to which target, from where, and what came of it.
/// The trail is append-only; only the retention job deletes rows.
/// </summary>
public sealed record AuditEntry
{
    /// <summary>The row id, assigned when the row is written (0 before). Later rows have larger ids.</summary>
    public long Id { get; init; }

    /// <summary>When it happened (UTC). Defaults to the time the entry is recorded.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>What was done, for example <c>POST /api/packs/{id}/enable</c>, <c>auth.failed</c> or <c>device.command</c> (at most 200 characters).</summary>
    public required string Action { get; init; }

    /// <summary>Who did it: the authenticated principal's name (the key or user name), the channel user, or <c>system</c>; null when anonymous.</summary>
    public string? Actor { get; init; }

    /// <summary>The kind of actor: one of <see cref="AuditActorKinds"/>.</summary>
    public string ActorKind { get; init; } = AuditActorKinds.System;

    /// <summary>The client's IP address, when the action came over the network.</summary>
    public string? IpAddress { get; init; }

    /// <summary>The kind of thing acted on, for example <c>workflow-definitions</c>, <c>packs</c> or <c>devices</c>.</summary>
    public string? TargetType { get; init; }

    /// <summary>The id of the thing acted on, when there is one.</summary>
    public string? TargetId { get; init; }

    /// <summary>The outcome: one of <see cref="AuditOutcomes"/>.</summary>
    public string Outcome { get; init; } = AuditOutcomes.Success;

    /// <summary>The HTTP status code (or 0 when the action did not come over HTTP).</summary>
    public int Status { get; init; }

    /// <summary>More detail as JSON text (an object), or null.</summary>
    public string? Details { get; init; }
}

/// <summary>The values of <see cref="AuditEntry.ActorKind"/>.</summary>
public static class AuditActorKinds
{
    /// <summary>An API key.</summary>
    public const string Key = "key";
    /// <summary>A signed-in user.</summary>
    public const string User = "user";
    /// <summary>A user of a channel (web chat, Telegram, ...), as the channel identified them.</summary>
    public const string Channel = "channel";
    /// <summary>The platform itself (a job, a workflow without a person behind it).</summary>
    public const string System = "system";
    /// <summary>A caller over the network that did not authenticate (or whose key was refused).</summary>
    public const string Anonymous = "anonymous";
}

/// <summary>
/// Who a workflow instance acts for, as the host established it when it started the instance: the channel user of the message
/// that started it, or the authenticated principal of an API call. Kept in instance properties that no workflow input or
/// expression sets, so an activity can audit (and authorise) the real actor instead of a value from the workflow's input.
/// </summary>
public static class AuditActor
{
    /// <summary>The instance property with the actor's name (a channel user id, or a key or user name).</summary>
    public const string Property = "platform.actor";

    /// <summary>The instance property with the actor's kind (<see cref="AuditActorKinds"/>).</summary>
    public const string KindProperty = "platform.actorKind";

    /// <summary>The instance properties that record <paramref name="name"/> of <paramref name="kind"/> as the actor.</summary>
    public static Dictionary<string, object?> Properties(string? name, string kind) =>
        new() { [Property] = name, [KindProperty] = kind };

    /// <summary>The actor the host recorded for this instance, or null when it started without one (a timer, an anonymous HTTP call).</summary>
    public static (string Name, string Kind)? GetActor(this ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Properties.TryGetValue(Property, out var name) && name is string { Length: > 0 } n
            ? (n, context.Properties.TryGetValue(KindProperty, out var kind) && kind is string { Length: > 0 } k ? k : AuditActorKinds.System)
            : null;
    }
}

/// <summary>The values of <see cref="AuditEntry.Outcome"/>.</summary>
public static class AuditOutcomes
{
    /// <summary>It was done.</summary>
    public const string Success = "success";
    /// <summary>It was refused (authentication, authorisation, network policy, rate limit, a device's permitted users).</summary>
    public const string Denied = "denied";
    /// <summary>It was tried and failed (bad input, an error, a device that did not answer).</summary>
    public const string Failed = "failed";
}

/// <summary>
/// Records audit entries. <see cref="Record"/> never blocks and never throws: entries are queued and written in the
/// background, and the queue is flushed when the host stops. Packs receive it from dependency injection when the host
/// keeps an audit trail.
/// </summary>
public interface IAuditLog
{
    /// <summary>Queues an entry for writing. A <see cref="AuditEntry.Timestamp"/> of <c>default</c> is set to now.</summary>
    void Record(AuditEntry entry);
}

/// <summary>Filters for reading the audit trail; every filter is optional.</summary>
public sealed record AuditQuery
{
    /// <summary>Only entries at or after this time.</summary>
    public DateTimeOffset? From { get; init; }
    /// <summary>Only entries before this time.</summary>
    public DateTimeOffset? To { get; init; }
    /// <summary>Only this actor (exact).</summary>
    public string? Actor { get; init; }
    /// <summary>Only actions that contain this text.</summary>
    public string? Action { get; init; }
    /// <summary>Only this target type (exact).</summary>
    public string? TargetType { get; init; }
    /// <summary>Only this target id (exact).</summary>
    public string? TargetId { get; init; }
    /// <summary>Only this outcome (exact).</summary>
    public string? Outcome { get; init; }
    /// <summary>Only entries with an id below this one (the continuation of the previous page).</summary>
    public long? Before { get; init; }
    /// <summary>The page size.</summary>
    public int Take { get; init; } = 50;
}

/// <summary>Where the audit trail is kept (the host implements it on the platform database).</summary>
public interface IAuditLogStore
{
    /// <summary>Writes entries in one transaction.</summary>
    Task AppendAsync(IReadOnlyCollection<AuditEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>Entries matching the query, newest first (by id), at most <see cref="AuditQuery.Take"/>.</summary>
    Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default);

    /// <summary>Deletes the entries older than <paramref name="cutoff"/> (retention); answers how many.</summary>
    Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}
