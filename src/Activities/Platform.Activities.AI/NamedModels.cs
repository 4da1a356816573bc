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
        var streams = activity.Stream.Get(context) != false ? context.GetService(typeof(IReplyStreams)) as IReplyStreams : null;
        var stream = streams is null ? null : await streams.OpenAsync(context);
        if (stream is not null)
        {
            await StreamAsync(activity, context, catalog, name, messages, stream, turns.Count);
            return;
        }
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

    /// <summary>
    /// Streams the named model's answer into <paramref name="stream"/> (the web chat's growing bubble). Retries and the fallback
    /// happen before the first token, unseen; when every model fails before it, Ask Model ends with <c>Failed</c> as without
    /// streaming. A failure mid-answer removes the bubble, sets <c>Error</c> and faults the activity with a message naming the
    /// model and its endpoint: an incident is recorded and a connected <c>Failed</c> port answers the user.
    /// </summary>
    private static async Task StreamAsync(AskModel activity, ActivityExecutionContext context, ModelCatalog catalog, string name, List<ChatMessage> messages,
        IReplyStream stream, int historyTurns)
    {
        var typing = context.GetService(typeof(ITypingIndicator)) is ITypingIndicator indicator ? await indicator.StartAsync(context) : null;
        await using (stream)
        {
            ModelStream opened;
            try
            {
                opened = await catalog.StreamAsync(name, messages, new ChatOptions(), context.CancellationToken);
            }
            catch (Exception e) when (ModelCatalog.IsModelFailure(e, context.CancellationToken))
            {
                if (typing is not null) await typing.DisposeAsync();
                await stream.AbortAsync(CancellationToken.None);
                var message = $"The model '{name}' failed: {ModelCatalog.Describe(e)}. Check {ModelCatalog.SectionName}:{name} (endpoint, model, API key).";
                context.Logger.LogWarning(e, "Ask Model failed");
                activity.Error.Set(context, message);
                context.Complete("Failed");
                return;
            }
            await using (opened)
            {
                var updates = new List<ChatResponseUpdate>();
                try
                {
                    await foreach (var update in opened.ReadAsync())
                    {
                        updates.Add(update);
                        if (update.Text is not { Length: > 0 } text) continue;
                        if (typing is not null)
                        {
                            await typing.DisposeAsync();
                            typing = null;
                        }
                        await stream.AppendAsync(text, context.CancellationToken);
                    }
                }
                catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && e is ModelStreamException or IOException or HttpRequestException)
                {
                    await stream.AbortAsync(CancellationToken.None);
                    var used = opened.ModelName;
                    var endpoint = catalog.Find(used)?.Endpoint;
                    var message = $"The model '{used}' ({endpoint}) failed mid-answer: {ModelCatalog.Describe(e)}. The partial answer was discarded. " +
                        $"Check {ModelCatalog.SectionName}:{used} (endpoint, model, timeout) and the model server's log.";
                    context.Logger.LogWarning(e, "Ask Model: {Message}", message);
                    activity.Error.Set(context, message);
                    activity.Answer.Set(context, "");
                    context.AddJournalData("model", used);
                    context.AddJournalData("streamed", true);
                    throw new ActivityFaultException(FaultCodes.Http, message, nonRetryable: true, e);
                }
                finally
                {
                    if (typing is not null) await typing.DisposeAsync();
                }
                await stream.CompleteAsync(context.CancellationToken);
                var response = updates.ToChatResponse();
                AiTelemetry.RecordUsage(context.DefinitionId, opened.ModelName, response.Usage);
                activity.Answer.Set(context, response.Text);
                context.AddJournalData("model", opened.ModelName);
                context.AddJournalData("historyTurns", historyTurns);
                context.AddJournalData("streamed", true);
                if (opened.Failures.Count > 0) context.AddJournalData("failures", opened.Failures);
                context.Complete("Done");
            }
        }
    }
}
