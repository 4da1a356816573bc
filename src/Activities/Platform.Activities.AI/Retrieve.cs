using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Platform.Activities.AI;

/// <summary>
/// Finds the chunks of a knowledge base that best answer a query (vector similarity plus a keyword score, see
/// <see cref="IKnowledgeSearch"/>). Outputs the chunks and a ready-made prompt context with numbered sources.
/// Outcomes: <c>Found</c>, or <c>NotFound</c> when nothing matched, the base does not exist or the query is empty
/// (the <see cref="Error"/> output then says which).
/// </summary>
[Activity("Platform", "AI", "Finds the passages of a knowledge base that answer a question, with their sources.", Kind = ActivityKind.Task)]
[FlowNode("Found", "NotFound")]
public sealed class Retrieve : Activity
{
    /// <summary>The default of <see cref="Top"/>.</summary>
    public const int DefaultTop = 4;

    /// <summary>The most chunks <see cref="Top"/> may ask for.</summary>
    public const int MaxTop = 50;

    /// <summary>The knowledge base name.</summary>
    [Input(Description = "The knowledge base to search (its name on the Knowledge page, /api/knowledge).", Order = 0)]
    public Input<string> KnowledgeBase { get; set; } = new("");

    /// <summary>What to look for; empty means the text of the message the workflow is answering.</summary>
    [Input(Description = "What to look for. Empty: the text of the message the workflow is answering.", UIHint = UIHints.MultiLine, Order = 1)]
    public Input<string> Query { get; set; } = new("");

    /// <summary>How many chunks to return (1-50, default 4).</summary>
    [Input(Description = "How many chunks to return (1-50, default 4).", Order = 2)]
    public Input<int> Top { get; set; } = new(DefaultTop);

    /// <summary>The chunks found, best first.</summary>
    [Output(Description = "The chunks found, best first: text, source (document name), title (headings) and score.")]
    public Output<List<KnowledgeHit>> Chunks { get; set; } = new();

    /// <summary>The chunks formatted for a prompt: numbered sources, each with its document and headings.</summary>
    [Output(Description = "The chunks formatted for a prompt, numbered [1], [2]… with their sources, so the model can cite them.")]
    public Output<string> Context { get; set; } = new();

    /// <summary>Why nothing was returned (NotFound), else empty.</summary>
    [Output(Description = "Why nothing was found (unknown knowledge base, empty query, no match).")]
    public Output<string> Error { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var name = KnowledgeBase.Get(context)?.Trim() ?? "";
        var query = context.TextOrIncomingMessage(Query.Get(context))?.Trim() ?? "";
        var top = Top.Get(context) is var t and > 0 ? Math.Min(t, MaxTop) : DefaultTop;
        Chunks.Set(context, []);
        Context.Set(context, "");
        if (name.Length == 0) { NotFound(context, "The KnowledgeBase input is empty: set it to the name of a knowledge base (Knowledge page)."); return; }
        if (query.Length == 0) { NotFound(context, "There is nothing to look for: set Query, or run Retrieve in a workflow started by a message."); return; }
        if (context.GetService(typeof(IKnowledgeSearch)) is not IKnowledgeSearch search)
        {
            NotFound(context, "This host has no knowledge base service.");
            return;
        }
        IReadOnlyList<KnowledgeHit> hits;
        try
        {
            hits = await search.SearchAsync(name, query, top, context.CancellationToken);
        }
        catch (KeyNotFoundException e)
        {
            NotFound(context, e.Message);
            return;
        }
        context.AddJournalData("knowledgeBase", name);
        context.AddJournalData("hits", hits.Count);
        if (hits.Count == 0) { NotFound(context, $"Nothing in the knowledge base '{name}' matches the query."); return; }
        Chunks.Set(context, hits.ToList());
        Context.Set(context, FormatContext(hits));
        Error.Set(context, "");
        context.Complete("Found");
    }

    /// <summary>Formats hits as numbered sources for a prompt: <c>[1] Title (source)</c>, then the text.</summary>
    public static string FormatContext(IReadOnlyList<KnowledgeHit> hits)
    {
        ArgumentNullException.ThrowIfNull(hits);
        var sb = new StringBuilder();
        for (var i = 0; i < hits.Count; i++)
        {
            var h = hits[i];
            if (i > 0) sb.Append("\n\n");
            sb.Append(CultureInfo.InvariantCulture, $"[{i + 1}] ");
            sb.Append(string.IsNullOrWhiteSpace(h.Title) ? h.Source : $"{h.Title} ({h.Source})");
            sb.Append('\n').Append(h.Text.Trim());
        }
        return sb.ToString();
    }

    private void NotFound(ActivityExecutionContext context, string message)
    {
        context.Logger.LogInformation("Retrieve: {Message}", message);
        Error.Set(context, message);
        context.Complete("NotFound");
    }
}
