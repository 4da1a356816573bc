using Microsoft.Extensions.Logging;

namespace Platform.Activities.AI;

/// <summary>
/// Recognises the intent of a text with a trained intent set and completes on the port of that intent, or on
/// <c>OutOfScope</c>. Entities found in the text are written to workflow variables of the same name when the workflow
/// declares them, and are all returned in <see cref="Entities"/>.
/// </summary>
/// <remarks>
/// Besides this generic type (the set is an input), every intent set is offered as its own type
/// <c>Platform.RecognizeIntent.{setId}</c> whose ports are the set's intents plus <c>OutOfScope</c>.
/// </remarks>
[Activity("Platform", "AI", "Recognises the intent of a text with an intent set: one port per intent, plus OutOfScope.")]
[FlowNode(IntentSetRules.OutOfScopeOutcome)]
public class RecognizeIntent : Activity
{
    /// <summary>The text to classify, usually the user's message.</summary>
    [Input(Description = "The text to classify, e.g. the user's message (JavaScript: variables.message).", Order = 0)]
    public Input<string> Text { get; set; } = new("");

    /// <summary>The intent set id (see the Intents page of the Studio). Ignored by the per-set types.</summary>
    [Input(Description = "The id of the intent set (Studio: Intents page). The per-set activity types have it built in.", Order = 1)]
    public Input<string> IntentSet { get; set; } = new("");

    /// <summary>The recognised intent, or <c>OutOfScope</c>.</summary>
    [Output(Description = "The recognised intent, or OutOfScope.")]
    public Output<string> Intent { get; set; } = new();

    /// <summary>The best intent's confidence, 0-1.</summary>
    [Output(Description = "The best intent's confidence (0-1).")]
    public Output<double> Confidence { get; set; } = new();

    /// <summary>The top three intents, best first: a list of <c>{ intent, confidence }</c>.</summary>
    [Output(Description = "The top three intents, best first: [{ intent, confidence }].")]
    public Output<List<Dictionary<string, object?>>> Alternatives { get; set; } = new();

    /// <summary>Entity name → value (numbers as decimals, dates as DateTimeOffset, list entities as their canonical value).</summary>
    [Output(Description = "Entity name → value of every entity found (also written to variables of the same name).")]
    public Output<Dictionary<string, object?>> Entities { get; set; } = new();

    /// <summary>The set of a per-set type (set by the type's factory); when set, <see cref="IntentSet"/> is ignored.</summary>
    public string? PinnedIntentSet { get; set; }

    /// <summary>The ports of a per-set type (set by the type's factory).</summary>
    public IReadOnlyList<string>? PinnedOutcomes { get; set; }

    /// <summary>Looks up the ports of a set by id for the generic type (set by the host's factory).</summary>
    public Func<string, IReadOnlyList<string>?>? OutcomeResolver { get; set; }

    /// <inheritdoc />
    public override IReadOnlyList<string> GetOutcomes()
    {
        if (PinnedOutcomes is { Count: > 0 } pinned) return pinned;
        if (OutcomeResolver is not null && IntentSet.Expression.Value is string id && id.Length > 0 && OutcomeResolver(id) is { Count: > 0 } resolved)
            return resolved;
        return [IntentSetRules.OutOfScopeOutcome];
    }

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var setId = PinnedIntentSet ?? IntentSet.Get(context);
        if (string.IsNullOrWhiteSpace(setId))
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Recognize Intent has no intent set: pick one in the IntentSet input, or use the activity type of the set (Platform.RecognizeIntent.<set>).", nonRetryable: true);
        var models = context.GetRequiredService<IntentSetModels>();
        var trained = await models.GetAsync(setId.Trim(), context.CancellationToken)
            ?? throw new ActivityFaultException(FaultCodes.Configuration,
                $"The intent set '{setId}' does not exist. Create it on the Studio's Intents page (or POST /api/intents), or pick another set.", nonRetryable: true);
        var text = Text.Get(context) ?? "";
        var result = await trained.RecognizeAsync(text, context.UtcNow, context.CancellationToken);

        Intent.Set(context, result.Intent);
        Confidence.Set(context, Math.Round(result.Confidence, 4));
        Alternatives.Set(context, result.Alternatives
            .Select(a => new Dictionary<string, object?> { ["intent"] = a.Intent, ["confidence"] = Math.Round(a.Confidence, 4) }).ToList());
        var entities = new Dictionary<string, object?>(result.Entities);
        Entities.Set(context, entities);
        await EntityVariables.AssignAsync(context, entities);
        context.AddJournalData("intentSet", trained.Set.Id);
        context.AddJournalData("intentSetVersion", trained.Set.Version);
        if (result.OutOfScope && result.TopIntent.Length > 0) context.AddJournalData("topIntent", result.TopIntent);
        context.Complete(result.Intent);
    }
}

/// <summary>Writes entities to workflow variables of the same name when the workflow declares them.</summary>
internal static class EntityVariables
{
    public static async ValueTask<IReadOnlyList<string>> AssignAsync(ActivityExecutionContext context, IReadOnlyDictionary<string, object?> entities)
    {
        if (entities.Count == 0) return [];
        var declared = await DeclaredAsync(context);
        var assigned = new List<string>();
        foreach (var (name, value) in entities)
        {
            if (!declared.Contains(name)) continue;
            try
            {
                context.SetVariable(name, value);
                assigned.Add(name);
            }
            catch (ActivityFaultException e)
            {
                context.Logger.LogWarning("Entity {Entity} was not written to the variable of the same name: {Message}", name, e.Message);
            }
        }
        if (assigned.Count > 0) context.AddJournalData("variablesSet", assigned);
        return assigned;
    }

    /// <summary>The workflow's variable names. The pack SDK has no "variable exists" call, so the JavaScript
    /// <c>variables</c> object (which holds every declared variable) is asked; without JavaScript, variables with a value.</summary>
    private static async ValueTask<HashSet<string>> DeclaredAsync(ActivityExecutionContext context)
    {
        try
        {
            var keys = await context.EvaluateAsync(Expression.JavaScript("Object.keys(variables)"), typeof(string[]));
            if (keys is IEnumerable<string> names) return new HashSet<string>(names, StringComparer.Ordinal);
            if (keys is System.Collections.IEnumerable list)
                return new HashSet<string>(list.Cast<object?>().Select(o => o?.ToString() ?? "").Where(s => s.Length > 0), StringComparer.Ordinal);
        }
        catch (ActivityFaultException)
        {
        }
        return [];
    }
}
