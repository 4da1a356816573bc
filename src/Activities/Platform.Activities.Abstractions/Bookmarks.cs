namespace Platform.Activities;

/// <summary>What an activity asks for when it suspends the workflow.</summary>
/// <param name="Name">The stimulus name, for example <c>Elsa.Delay</c> or <c>Platform.WaitForMessage</c>.</param>
/// <param name="Key">A key that the resumer must present, for example a conversation id; null matches any.</param>
public sealed record BookmarkRequest(string Name, string? Key = null)
{
    /// <summary>When set, the engine resumes the bookmark on its own at this time.</summary>
    public DateTimeOffset? ResumeAt { get; init; }

    /// <summary>Data kept with the bookmark and given back on resume.</summary>
    public IDictionary<string, object?> Payload { get; init; } = new Dictionary<string, object?>();
}

/// <summary>A stored bookmark: a point where an instance waits.</summary>
public sealed record Bookmark
{
    /// <summary>The bookmark id.</summary>
    public required string Id { get; init; }
    /// <summary>The stimulus name.</summary>
    public required string Name { get; init; }
    /// <summary>The key the resumer must present, or null.</summary>
    public string? Key { get; init; }
    /// <summary>The activity that created it.</summary>
    public required string ActivityId { get; init; }
    /// <summary>The activity's node id.</summary>
    public required string ActivityNodeId { get; init; }
    /// <summary>The activity instance (execution) id that created it.</summary>
    public required string ActivityInstanceId { get; init; }
    /// <summary>When the engine resumes it on its own.</summary>
    public DateTimeOffset? ResumeAt { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Data kept with it.</summary>
    public IDictionary<string, object?> Payload { get; init; } = new Dictionary<string, object?>();
}
