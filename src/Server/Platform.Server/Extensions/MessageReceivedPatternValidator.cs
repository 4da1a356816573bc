using Platform.Activities;
using Platform.Activities.Messaging;
using Platform.Engine.Contracts;
using Platform.Engine.Flowchart;

namespace Platform.Server.Extensions;

/// <summary>Rejects, at save time, a Message Received whose text pattern is not a valid regular expression.</summary>
public sealed class MessageReceivedPatternValidator : IWorkflowValidator
{
    /// <inheritdoc />
    public IEnumerable<ValidationError> Validate(FlowchartGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        foreach (var activity in graph.Activities.OfType<MessageReceived>())
            if (activity.TextPattern.Expression.Type == ExpressionTypes.Literal
                && TextPatterns.Problem(activity.TextPattern.Expression.Value?.ToString()) is { } problem)
                yield return new ValidationError(problem + ". Fix the Text Pattern input of this Message Received, or leave it empty to take every message.", activity.Id);
    }
}
