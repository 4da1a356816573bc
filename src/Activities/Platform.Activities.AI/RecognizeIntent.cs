using Microsoft.Extensions.Logging;

namespace Platform.Activities.AI;

/// <summary>
/// Recognises the intent of a text with a trained intent set and completes on the port of that intent, or on
/// <c>OutOfScope</c>. Entities found in the text are written to workflow variables of the same name when the workflow
/// declares them, and are all returned in <see cref="Entities"/>.
/// </summary>
/// <remarks>
/// <para>Besides this generic type (the set is an input), every intent set is offered as its own type
/// <c>Platform.RecognizeIntent.{setId}</c> whose ports are the set's intents plus <c>OutOfScope</c>.</para>
/// <para>Slot filling: when the recognised intent has required entities (<see cref="IntentDefinition.Required"/>) that
/// the text lacks, the activity completes on <c>MissingSlot</c> with <see cref="Question"/> and remembers the intent
/// and the entities found (in the instance properties). Connect <c>MissingSlot</c> to Send Reply (the question), then
/// Wait For Message, and back into this activity with the new message as <see cref="Text"/>: the answer is searched for
/// the missing entities only (a bare "kitchen" fills <c>room</c>), merged with the earlier ones, and once all are there
/// the activity completes on the original intent's port. An answer that fills nothing and is another intent starts
/// over with that intent; otherwise the question is asked again, up to <see cref="MaxQuestions"/> times, and then the
/// activity gives up on <c>OutOfScope</c>.</para>
/// </remarks>
// Not in the palette: it has no intent ports of its own; the per-set types ("Recognize Intent: <set>") are offered instead.
[Activity("Platform", "AI", "Recognises the intent of a text with an intent set: one port per intent, plus OutOfScope.", IsBrowsable = false)]
[FlowNode(IntentSetRules.OutOfScopeOutcome)]
public class RecognizeIntent : Activity
{
    /// <summary>The text to classify, usually the user's message.</summary>
    [Input(Description = "The text to classify. Empty: the message the workflow is answering (the one that started it, or the newest after Wait For Message).", Order = 0)]
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

    /// <summary>The rest of a message with two requests (empty otherwise): recognise it after answering the first.</summary>
    [Output(Description = "A message with two requests (\"turn off the light and tell me today's orders\") is cut where both halves are in scope: the activity takes the first request's port, and Rest holds the rest, to recognise next (loop back with Text = Rest). Empty for one request.")]
    public Output<string> Rest { get; set; } = new();

    /// <summary>How many times a missing entity is asked for before giving up (default 3).</summary>
    [Input(Description = "Slot filling: how many times a missing entity is asked for before the activity gives up on OutOfScope. Default 3.", Order = 2)]
    public Input<int?> MaxQuestions { get; set; } = new(DefaultMaxQuestions);

    /// <summary>On <c>MissingSlot</c>: the question that asks for the missing entity (send it with Send Reply).</summary>
    [Output(Description = "MissingSlot: the question for the missing entity, e.g. \"Which room?\" (send it with Send Reply).")]
    public Output<string> Question { get; set; } = new();

    /// <summary>On <c>MissingSlot</c>: the name of the missing entity; on giving up, the entity that was never given.</summary>
    [Output(Description = "MissingSlot: the name of the missing entity (e.g. room).")]
    public Output<string> Slot { get; set; } = new();

    /// <summary>On <c>MissingSlot</c>: the values of a missing list entity (for quick-reply buttons), else empty.</summary>
    [Output(Description = "MissingSlot: the values of a missing list entity, for Send Reply's quick replies.")]
    public Output<List<string>> Choices { get; set; } = new();

    /// <summary>The default of <see cref="MaxQuestions"/>.</summary>
    public const int DefaultMaxQuestions = 3;

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
        var text = context.TextOrIncomingMessage(Text.Get(context));
        var pending = PendingSlots.Read(context);
        IntentRecognition? result = null;
        if (pending is not null)
        {
            PendingSlots.Clear(context);
            // Still asking for something the set (maybe saved again meanwhile) requires: else the text is a new request.
            if (string.Equals(pending.Set, trained.Set.Id, StringComparison.OrdinalIgnoreCase)
                && Slots.Missing(trained.Set, pending.Intent, pending.ToValues()).Any(s => s.Entity == pending.Slot))
            {
                result = await ContinueAsync(context, trained, pending, text);
                if (result is null) return;
            }
        }
        var rest = "";
        if (result is null)
        {
            (result, rest) = await trained.RecognizeRequestAsync(text, context.UtcNow, context.CancellationToken);
            if (rest.Length > 0) context.AddJournalData("rest", rest);
        }
        Rest.Set(context, rest);

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
        if (!result.OutOfScope && Slots.Missing(trained.Set, result.Intent, entities) is [var missing, ..])
        {
            Ask(context, trained.Set, new PendingSlots
            {
                Set = trained.Set.Id, Intent = result.Intent, Confidence = result.Confidence, Entities = PendingSlots.FromValues(entities), Slot = missing.Entity,
            });
            return;
        }
        context.Complete(result.Intent);
    }

    /// <summary>
    /// Takes the text as the answer to a question for a missing entity. Completes the activity (returns null) when the answer
    /// fills slots, or repeats or gives up the question; returns the recognition of the text when it is a new request instead.
    /// </summary>
    private async Task<IntentRecognition?> ContinueAsync(ActivityExecutionContext context, TrainedIntentSet trained, PendingSlots pending, string text)
    {
        var set = trained.Set;
        var entities = pending.ToValues();
        var found = TrainedIntentSet.ToDictionary(trained.FindEntities(text, context.UtcNow));
        var filled = new List<string>();
        foreach (var slot in Slots.Missing(set, pending.Intent, entities))
        {
            if (!found.TryGetValue(slot.Entity, out var value) || value is null) continue;
            entities[slot.Entity] = value;
            filled.Add(slot.Entity);
        }
        context.AddJournalData("intentSet", set.Id);
        context.AddJournalData("intentSetVersion", set.Version);
        context.AddJournalData("pendingIntent", pending.Intent);
        if (filled.Count > 0)
        {
            context.AddJournalData("slotsFilled", filled);
            Entities.Set(context, entities);
            await EntityVariables.AssignAsync(context, entities);
            Intent.Set(context, pending.Intent);
            Confidence.Set(context, Math.Round(pending.Confidence, 4));
            if (Slots.Missing(set, pending.Intent, entities) is [var next, ..])
            {
                Ask(context, set, pending with { Entities = PendingSlots.FromValues(entities), Slot = next.Entity, Questions = 1 });
                return null;
            }
            Alternatives.Set(context, [new Dictionary<string, object?> { ["intent"] = pending.Intent, ["confidence"] = Math.Round(pending.Confidence, 4) }]);
            context.Complete(pending.Intent);
            return null;
        }

        // Nothing filled: a new request changes the subject; anything else gets the question again, or ends it.
        var result = await trained.RecognizeAsync(text, context.UtcNow, context.CancellationToken);
        if (!result.OutOfScope && result.Intent != pending.Intent)
        {
            context.AddJournalData("slotAbandoned", pending.Slot);
            return result;
        }
        var max = Math.Max(1, MaxQuestions.Get(context) ?? DefaultMaxQuestions);
        Entities.Set(context, entities);
        if (pending.Questions < max)
        {
            Intent.Set(context, pending.Intent);
            Confidence.Set(context, Math.Round(pending.Confidence, 4));
            Ask(context, set, pending with { Questions = pending.Questions + 1 });
            return null;
        }
        context.AddJournalData("slotAbandoned", pending.Slot);
        context.Logger.LogInformation("Recognize Intent: no {Slot} for {Intent} after {Questions} question(s); giving up", pending.Slot, pending.Intent, pending.Questions);
        Intent.Set(context, IntentSetRules.OutOfScopeOutcome);
        Confidence.Set(context, 0d);
        Alternatives.Set(context, []);
        Slot.Set(context, pending.Slot);
        context.Complete(IntentSetRules.OutOfScopeOutcome);
        return null;
    }

    /// <summary>Remembers what is pending and completes on <c>MissingSlot</c> with the question. A repeated question lists the choices.</summary>
    private void Ask(ActivityExecutionContext context, IntentSet set, PendingSlots pending)
    {
        var slot = set.Intents.First(i => i.Name == pending.Intent).Required.First(s => s.Entity == pending.Slot);
        var choices = Slots.Choices(set, slot.Entity);
        var question = slot.Question;
        if (pending.Questions > 1 && choices.Count is > 0 and <= 10) question = $"{question} ({string.Join(", ", choices)})";
        pending.Write(context);
        Question.Set(context, question);
        Slot.Set(context, slot.Entity);
        Choices.Set(context, choices);
        context.AddJournalData("missingSlot", slot.Entity);
        context.AddJournalData("question", pending.Questions);
        context.Complete(IntentSetRules.MissingSlotOutcome);
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
