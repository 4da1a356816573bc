using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;

namespace Platform.Engine.Runtime;

/// <summary>
/// Runs the save-time checks of every activity that implements <see cref="IValidatesConfiguration"/> (built-in and pack
/// activities alike) and reports each message on its activity, like every other <see cref="IWorkflowValidator"/>.
/// </summary>
public sealed class ActivityConfigurationValidator(ILogger<ActivityConfigurationValidator>? logger = null) : IWorkflowValidator
{
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <inheritdoc />
    public IEnumerable<ValidationError> Validate(FlowchartGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var errors = new List<ValidationError>();
        foreach (var activity in graph.Activities)
        {
            if (activity is not IValidatesConfiguration validating) continue;
            try
            {
                foreach (var message in validating.ValidateConfiguration(new Context(graph.Inbound(activity.Id).Count == 0)))
                    if (!string.IsNullOrWhiteSpace(message)) errors.Add(new ValidationError(message, activity.Id));
            }
            catch (Exception e)
            {
                _logger.LogError(e, "The save-time check of {Type} ({ActivityId}) failed", activity.Type, activity.Id);
                errors.Add(new ValidationError($"The save-time check of {activity.Type} failed ({e.GetType().Name}: {e.Message}). " +
                    "This is a bug in the activity's pack: report it to its author, or remove the activity.", activity.Id));
            }
        }
        return errors;
    }

    private sealed class Context(bool isStart) : ActivityValidationContext
    {
        public override bool IsStartOfWorkflow => isStart;

        public override bool TryGetLiteral<T>(Input<T> input, out T? value) where T : default
        {
            value = default;
            if (input is null || input.Expression.Type is not ExpressionTypes.Literal) return false;
            try
            {
                value = ValueConverter.Convert<T>(input.Expression.Value);
                return true;
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or System.Text.Json.JsonException)
            {
                return false;
            }
        }
    }
}
