namespace Platform.Activities;

/// <summary>
/// Implemented by an activity that checks its own configuration when a workflow is saved or published (save-time
/// validation). Each message returned is shown in the Studio on this activity and the save is refused (400), exactly as
/// the platform's own checks report (for example a Message Received whose text pattern is not a regular expression).
/// </summary>
/// <remarks>
/// Only the configuration is known at save time: read inputs with <see cref="ActivityValidationContext.TryGetLiteral{T}"/>
/// (expressions are not evaluated; skip what is not a literal, or report that a literal is needed). Keep it fast and free of
/// I/O. A validator that throws is reported as an error on the activity (and logged), so a bug never lets a save pass silently.
/// </remarks>
/// <example><code>
/// public class GetTemperature : Activity, IValidatesConfiguration
/// {
///     [Input] public Input&lt;string&gt; City { get; set; } = new("");
///     public IEnumerable&lt;string&gt; ValidateConfiguration(ActivityValidationContext context)
///     {
///         if (context.TryGetLiteral(City, out var city) &amp;&amp; string.IsNullOrWhiteSpace(city))
///             yield return "Get Temperature needs a City, e.g. Oslo.";
///     }
///     ...
/// }
/// </code></example>
public interface IValidatesConfiguration
{
    /// <summary>The problems with this activity's configuration, each telling how to fix it; none when it may be saved.</summary>
    IEnumerable<string> ValidateConfiguration(ActivityValidationContext context);
}

/// <summary>What an activity sees of the workflow while it validates its configuration (<see cref="IValidatesConfiguration"/>).</summary>
public abstract class ActivityValidationContext
{
    /// <summary>True when the activity has no inbound connection in its flowchart, so it starts the workflow (as a trigger).</summary>
    public abstract bool IsStartOfWorkflow { get; }

    /// <summary>
    /// The input's value when it is a literal that converts to <typeparamref name="T"/> (with the engine's conversions, e.g.
    /// <c>5m</c> to a <see cref="TimeSpan"/>); false for an expression (JavaScript, Liquid, variable) or a literal that does not convert.
    /// </summary>
    public abstract bool TryGetLiteral<T>(Input<T> input, out T? value);
}
