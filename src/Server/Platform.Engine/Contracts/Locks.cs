namespace Platform.Engine.Contracts;

/// <summary>Ensures one instance runs in one place at a time. The default is in-process; multi-node hosts replace it.</summary>
public interface IInstanceLock
{
    ValueTask<IAsyncDisposable> AcquireAsync(string instanceId, CancellationToken ct);
}

/// <summary>Schedules the automatic resumption of timed bookmarks (<c>ResumeAt</c>).</summary>
public interface IBookmarkScheduler
{
    /// <summary>Called after a commit for each new timed bookmark.</summary>
    ValueTask ScheduleAsync(string instanceId, string bookmarkId, DateTimeOffset resumeAt, CancellationToken ct);
}
