namespace Platform.Activities.AI;

/// <summary>
/// Finds entities in a text: numbers and dates/times always, plus the list and regex entities of an intent set when one
/// is given. Entities are written to workflow variables of the same name when the workflow declares them.
/// </summary>
[Activity("Platform", "AI", "Finds numbers, dates/times and the entities of an intent set in a text.")]
[FlowNode("Done", "None")]
public class ExtractEntities : Activity
{
    /// <summary>The text to search.</summary>
    [Input(Description = "The text to search. Empty: the message the workflow is answering (the one that started it, or the newest after Wait For Message).", Order = 0)]
    public Input<string> Text { get; set; } = new("");

    /// <summary>An intent set whose list and regex entities are looked for too (optional).</summary>
    [Input(Description = "Optional: an intent set whose list and regex entities are looked for as well.", Order = 1)]
    public Input<string> IntentSet { get; set; } = new("");

    /// <summary>Entity name → value of every entity found.</summary>
    [Output(Description = "Entity name → value (numbers as decimals, dates as DateTimeOffset, list entities as their canonical value).")]
    public Output<Dictionary<string, object?>> Entities { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var text = context.TextOrIncomingMessage(Text.Get(context));
        var setId = IntentSet.Get(context);
        IntentSet? set = null;
        if (!string.IsNullOrWhiteSpace(setId))
        {
            set = await context.GetRequiredService<IIntentSetStore>().FindAsync(setId.Trim(), context.CancellationToken)
                ?? throw new ActivityFaultException(FaultCodes.Configuration,
                    $"The intent set '{setId}' does not exist. Create it on the Studio's Intents page, or leave IntentSet empty for numbers and dates only.", nonRetryable: true);
        }
        var matches = IntentSetModels.EntityRecognizerFor(set).Recognize(text, context.UtcNow, IntentSetModels.TimeZoneFor(set));
        var entities = TrainedIntentSet.ToDictionary(matches);
        Entities.Set(context, entities);
        await EntityVariables.AssignAsync(context, entities);
        context.Complete(entities.Count > 0 ? "Done" : "None");
    }
}
