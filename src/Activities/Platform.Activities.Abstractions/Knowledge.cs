namespace Platform.Activities;

/// <summary>
/// Searches the host's named knowledge bases (documents split into chunks, ranked by vector similarity plus a keyword score).
/// Resolve it from the activity's context; the Retrieve activity and the AI agent's Retrieve tool use it.
/// </summary>
public interface IKnowledgeSearch
{
    /// <summary>The <paramref name="top"/> best chunks of <paramref name="knowledgeBase"/> for <paramref name="query"/>, best first (empty when nothing matches).</summary>
    /// <exception cref="KeyNotFoundException">The knowledge base does not exist.</exception>
    Task<IReadOnlyList<KnowledgeHit>> SearchAsync(string knowledgeBase, string query, int top, CancellationToken cancellationToken);
}

/// <summary>One chunk found by <see cref="IKnowledgeSearch"/>: its text, the document it comes from, the headings above it and its score (higher is better).</summary>
public sealed record KnowledgeHit(string Text, string Source, string? Title, double Score);
