namespace Platform.Engine.Contracts;

/// <summary>
/// Hands a background activity to whatever runs jobs: the in-process executor by default, Hangfire's <c>RunActivityJob</c>
/// when scheduling runs on Hangfire. Called after the commit that suspended the instance on the activity's bookmark.
/// </summary>
public interface IBackgroundActivityDispatcher
{
    /// <summary>Queues the run of the activity waiting on <paramref name="bookmarkId"/>; the job resumes the instance when done.</summary>
    ValueTask DispatchAsync(string instanceId, string bookmarkId, CancellationToken ct);
}
