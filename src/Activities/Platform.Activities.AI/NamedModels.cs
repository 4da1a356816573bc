using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Platform.Activities.AI;

/// <summary>Ask Model with a named model (<see cref="ModelCatalog"/>) instead of <c>Platform:AI:ChatCompletion</c>.</summary>
internal static class NamedModels
{
    /// <summary>True when <paramref name="model"/> names a model other than <c>default</c>.</summary>
    public static bool IsNamed(string? model) =>
        !string.IsNullOrWhiteSpace(model) && !string.Equals(model.Trim(), ModelCatalog.DefaultName, StringComparison.OrdinalIgnoreCase);

    /// <summary>Runs <paramref name="activity"/> against the named model: same inputs, outputs and outcomes as with the default one.</summary>
    public static async Task AskAsync(AskModel activity, ActivityExecutionContext context, string name, IReadOnlyList<ConversationTurn> turns)
    {
        var catalog = context.GetService(typeof(ModelCatalog)) as ModelCatalog;
        if (catalog?.Find(name) is not { IsConfigured: true })
        {
            var message = catalog?.NotConfiguredMessage(name) ?? ChatModelClient.NotConfiguredMessage;
            context.Logger.LogWarning("Ask Model: {Message}", message);
            activity.Error.Set(context, message);
            context.Complete("NotConfigured");
            return;
        }
        var prompt = activity.Prompt.Get(context) ?? "";
        var text = context.TextOrIncomingMessage(activity.Text.Get(context));
        var user = string.IsNullOrWhiteSpace(text) ? prompt : string.IsNullOrWhiteSpace(prompt) ? text : $"{prompt}\n\n{text}";
        if (string.IsNullOrWhiteSpace(user))
        {
            activity.Error.Set(context, "Ask Model has nothing to ask: set Prompt (and/or Text).");
            context.Complete("Failed");
            return;
        }
        var messages = new List<ChatMessage>();
        if (activity.System.Get(context) is { } system && !string.IsNullOrWhiteSpace(system)) messages.Add(new ChatMessage(ChatRole.System, system));
        foreach (var turn in turns) messages.Add(new ChatMessage(turn.Role == ConversationRole.Assistant ? ChatRole.Assistant : ChatRole.User, turn.Text));
        messages.Add(new ChatMessage(ChatRole.User, user));
        try
        {
            var result = await catalog.CompleteAsync(name, messages, new ChatOptions(), context.CancellationToken);
            AiTelemetry.RecordUsage(context.DefinitionId, result.ModelName, result.Response.Usage);
            activity.Answer.Set(context, result.Response.Text);
            context.AddJournalData("model", result.ModelName);
            context.AddJournalData("historyTurns", turns.Count);
            if (result.Failures.Count > 0) context.AddJournalData("failures", result.Failures);
            context.Complete("Done");
        }
        catch (Exception e) when (ModelCatalog.IsModelFailure(e, context.CancellationToken))
        {
            var message = $"The model '{name}' failed: {ModelCatalog.Describe(e)}. Check {ModelCatalog.SectionName}:{name} (endpoint, model, API key).";
            context.Logger.LogWarning(e, "Ask Model failed");
            activity.Error.Set(context, message);
            context.Complete("Failed");
        }
    }
}
