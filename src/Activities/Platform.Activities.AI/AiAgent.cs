using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace Platform.Activities.AI;

/// <summary>
/// An AI agent: asks a chat model (function calling against an OpenAI-compatible endpoint) and runs the tools it calls
/// (Query Database, Get Device State, Control Device, Retrieve, workflows usable as a tool) until the model answers.
/// Limits: <see cref="MaxRounds"/> model calls, <see cref="MaxTokens"/> tokens, <see cref="Timeout"/> in all. Every model
/// call and tool call is journaled (<c>steps</c>: inputs, outputs, tokens, duration) and returned in <see cref="ToolCalls"/>.
/// </summary>
/// <remarks>
/// Outcomes: <c>Done</c> (the answer is in <see cref="Answer"/>); <c>NeedsConfirmation</c> when a tool needs the user's
/// confirmation first (a high-risk device command): <see cref="Answer"/> asks for it and <see cref="PendingAction"/>
/// describes the command; <c>Failed</c> (no model configured, a limit of rounds or tokens reached, or the model failed
/// after its retries and fallback: <see cref="Error"/> says why; a model failure is also an incident);
/// <c>Timeout</c> when <see cref="Timeout"/> ran out.
/// </remarks>
[Activity("Platform", "AI", "An AI agent: a chat model that calls tools (database, devices, knowledge, workflows) until it can answer.", Kind = ActivityKind.Task)]
[FlowNode("Done", "NeedsConfirmation", "Failed", "Timeout")]
public class AiAgent : Activity
{
    /// <summary>The named model (<c>Platform:AI:Models:{name}</c>); empty means <c>default</c>.</summary>
    [Input(Description = "The model endpoint (configured under Platform:AI:Models). Empty: default.", UIHint = UIHints.DropDown, Options = [ModelCatalog.DefaultName], Order = 0)]
    public Input<string> Model { get; set; } = new(ModelCatalog.DefaultName);

    /// <summary>The system message: the agent's role, rules and hints about the tools.</summary>
    [Input(Description = "The agent's instructions (system message): its role, rules, and hints such as which data source or knowledge base to use.", UIHint = UIHints.MultiLine, Order = 1)]
    public Input<string> Instructions { get; set; } = new("");

    /// <summary>The request; empty means the text of the message the workflow answers.</summary>
    [Input(Description = "The request to the agent. Empty: the message the workflow is answering.", UIHint = UIHints.MultiLine, Order = 2)]
    public Input<string> Prompt { get; set; } = new("");

    /// <summary>The tools the agent may call.</summary>
    [Input(Description = "The tools the agent may call: built-in ones and published workflows marked \"usable as a tool\".", UIHint = UIHints.CheckList,
        Options = [BuiltInTools.QueryDatabase, BuiltInTools.GetDeviceState, BuiltInTools.ControlDevice, BuiltInTools.Retrieve], Order = 3)]
    public Input<List<string>> Tools { get; set; } = new(new List<string>());

    /// <summary>The knowledge base searched by the retrieve tool when the model names none.</summary>
    [Input(Description = "The knowledge base the retrieve tool searches (when the model names none).", Order = 4)]
    public Input<string> KnowledgeBase { get; set; } = new("");

    /// <summary>The most model calls (default 5).</summary>
    [Input(Description = "The most model calls (rounds of tool calls plus the answer). Default 5.", Order = 5)]
    public Input<int?> MaxRounds { get; set; } = new(DefaultMaxRounds);

    /// <summary>The most tokens (prompt plus answer, over all rounds); 0 = no limit.</summary>
    [Input(Description = "The most tokens used over all rounds (input plus output); 0 = no limit. Default 20000.", Order = 6)]
    public Input<int?> MaxTokens { get; set; } = new(DefaultMaxTokens);

    /// <summary>How long the whole agent run may take.</summary>
    [Input(Description = "How long the whole run may take (model calls and tools), e.g. 00:01:00 (default 2 minutes).", Order = 7)]
    public Input<TimeSpan?> Timeout { get; set; } = new((TimeSpan?)null);

    /// <summary>How many earlier turns of the conversation go to the model (default 10; 0 sends none).</summary>
    [Input(Description = "How many earlier turns of the conversation go to the model before the request. Default 10; 0 sends none.", Order = 8)]
    public Input<int?> HistoryTurns { get; set; } = new(AskModel.DefaultHistoryTurns);

    /// <summary>Whether to stream the final answer to the conversation as it is written (default on).</summary>
    [Input(Description = "Show the final answer while it is being written, on channels that can (the web chat shows a growing bubble that the next Send Reply replaces). Rounds that call tools are not shown. Default on.", Order = 9)]
    public Input<bool?> Stream { get; set; } = new(true);

    /// <summary>The answer (or, on NeedsConfirmation, the question to the user).</summary>
    [Output(Description = "The agent's answer; on NeedsConfirmation the question asking the user to confirm.")]
    public Output<string> Answer { get; set; } = new();

    /// <summary>Every model call and tool call, in order.</summary>
    [Output(Description = "The journal of the run: every model call and tool call (inputs, outputs, tokens, duration).")]
    public Output<List<Dictionary<string, object?>>> ToolCalls { get; set; } = new();

    /// <summary>The command waiting for the user's confirmation (NeedsConfirmation), else null.</summary>
    [Output(Description = "On NeedsConfirmation: the pending command (tool, device, command, value, message).")]
    public Output<Dictionary<string, object?>?> PendingAction { get; set; } = new();

    /// <summary>Why the run failed or timed out.</summary>
    [Output(Description = "Why the run failed (Failed) or timed out (Timeout).")]
    public Output<string> Error { get; set; } = new();

    /// <summary>The default of <see cref="MaxRounds"/>.</summary>
    public const int DefaultMaxRounds = 5;

    /// <summary>The default of <see cref="MaxTokens"/>.</summary>
    public const int DefaultMaxTokens = 20000;

    /// <summary>The default of <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Below this many tokens left of <see cref="MaxTokens"/>, the answer's <c>max_tokens</c> is capped to what is left.</summary>
    public const int MaxAnswerTokensCap = 4096;

    /// <summary>The longest tool result sent to the model (characters); longer ones are cut.</summary>
    public const int MaxToolResultChars = 16000;

    /// <summary>The property of the workflow instance holding the agent's tool exchanges per conversation, replayed by later runs.</summary>
    public const string MemoryPropertyPrefix = "platform.agent.";

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var steps = new List<Dictionary<string, object?>>();
        ToolCalls.Set(context, steps);
        PendingAction.Set(context, null);
        var catalog = context.GetService(typeof(ModelCatalog)) as ModelCatalog;
        var modelName = Model.Get(context) is { } m && !string.IsNullOrWhiteSpace(m) ? m.Trim() : ModelCatalog.DefaultName;
        if (catalog?.Find(modelName) is not { IsConfigured: true })
        {
            Fail(context, catalog?.NotConfiguredMessage(modelName) ?? ChatModelClient.NotConfiguredMessage, "Failed");
            return;
        }
        var prompt = context.TextOrIncomingMessage(Prompt.Get(context));
        if (string.IsNullOrWhiteSpace(prompt))
        {
            Fail(context, "The AI agent has nothing to do: set Prompt, or start the workflow with a message.", "Failed");
            return;
        }
        var maxRounds = Math.Clamp(MaxRounds.Get(context) ?? DefaultMaxRounds, 1, 50);
        var maxTokens = Math.Max(0, MaxTokens.Get(context) ?? DefaultMaxTokens);
        var timeout = Timeout.Get(context) is { } t && t > TimeSpan.Zero ? t : DefaultTimeout;

        var (tools, unknown) = await ToolsAsync(context);
        if (unknown.Count > 0)
        {
            Fail(context, $"The AI agent's Tools name unknown tools: {string.Join(", ", unknown)}. Available: {string.Join(", ", await AvailableAsync(context))}.", "Failed");
            return;
        }

        var messages = new List<ChatMessage>();
        var instructions = Instructions.Get(context);
        if (!string.IsNullOrWhiteSpace(instructions)) messages.Add(new ChatMessage(ChatRole.System, instructions));
        var historyTurns = Math.Clamp(HistoryTurns.Get(context) ?? AskModel.DefaultHistoryTurns, 0, AskModel.MaxHistoryTurns);
        foreach (var turn in await HistoryAsync(context))
            messages.Add(new ChatMessage(turn.Role == ConversationRole.Assistant ? ChatRole.Assistant : ChatRole.User, turn.Text));
        messages.AddRange(await RememberedAsync(context, historyTurns));
        var firstNew = messages.Count;
        messages.Add(new ChatMessage(ChatRole.User, prompt));

        var options = new ChatOptions
        {
            Tools = tools.Count == 0 ? null : tools.Values.Select(tool => (AITool)AIFunctionFactory.CreateDeclaration(tool.Name, tool.Description, tool.ParametersSchema)).ToList(),
            ToolMode = tools.Count == 0 ? null : ChatToolMode.Auto,
            Temperature = catalog.Find(modelName)!.Temperature is { } temp ? (float)temp : null,
        };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(timeout);
        long tokens = 0;
        var workflow = context.DefinitionId;
        var streams = Stream.Get(context) != false ? context.GetService(typeof(IReplyStreams)) as IReplyStreams : null;
        var conversation = ConversationMemory.ConversationKeyOf(context);
        var streaming = streams is not null && conversation is not null && await streams.IsSupportedAsync(conversation, context.CancellationToken);
        var typing = context.GetService(typeof(ITypingIndicator)) is ITypingIndicator indicator ? await indicator.StartAsync(context) : null;
        try
        {
            for (var round = 1; round <= maxRounds; round++)
            {
                var start = Stopwatch.GetTimestamp();
                ModelCallResult call;
                try
                {
                    // Only a nearly spent budget caps the answer: a large max_tokens is refused by some models (e.g. above 16384).
                    options.MaxOutputTokens = maxTokens > 0 && maxTokens - tokens < MaxAnswerTokensCap ? (int)Math.Max(1, maxTokens - tokens) : null;
                    call = streaming
                        ? await StreamRoundAsync(context, catalog, modelName, messages, options, streams!, () => typing, () => typing = null, cts.Token)
                        : await catalog.CompleteAsync(modelName, messages, options, cts.Token);
                }
                catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && !cts.IsCancellationRequested && ModelCatalog.IsModelFailure(e, cts.Token))
                {
                    var message = $"The model '{modelName}' failed: {ModelCatalog.Describe(e)}. Check {ModelCatalog.SectionName}:{modelName} (endpoint, model, API key) or configure a Fallback.";
                    steps.Add(new() { ["type"] = "model", ["round"] = round, ["model"] = modelName, ["error"] = message, ["durationMs"] = AiTelemetry.Elapsed(start) });
                    Journal(context, steps, tokens);
                    Error.Set(context, message);
                    Answer.Set(context, "");
                    context.Logger.LogWarning(e, "AI Agent: {Message}", message);
                    throw new ActivityFaultException(FaultCodes.Http, message, nonRetryable: true, e);
                }
                var usage = call.Response.Usage;
                AiTelemetry.RecordUsage(workflow, call.ModelName, usage);
                tokens += usage?.TotalTokenCount ?? (usage?.InputTokenCount ?? 0) + (usage?.OutputTokenCount ?? 0);
                var functionCalls = call.Response.Messages.SelectMany(x => x.Contents).OfType<FunctionCallContent>().ToList();
                steps.Add(new()
                {
                    ["type"] = "model", ["round"] = round, ["model"] = call.ModelName, ["finishReason"] = call.Response.FinishReason?.Value,
                    ["inputTokens"] = usage?.InputTokenCount, ["outputTokens"] = usage?.OutputTokenCount, ["durationMs"] = AiTelemetry.Elapsed(start),
                    ["text"] = call.Response.Text, ["toolCalls"] = functionCalls.Select(f => f.Name).ToList(),
                    ["failures"] = call.Failures.Count == 0 ? null : call.Failures,
                });
                messages.AddRange(call.Response.Messages);
                if (functionCalls.Count == 0)
                {
                    Remember(context, messages.Skip(firstNew));
                    Answer.Set(context, call.Response.Text);
                    Error.Set(context, "");
                    Journal(context, steps, tokens);
                    context.Complete("Done");
                    return;
                }
                if (maxTokens > 0 && tokens >= maxTokens)
                {
                    Journal(context, steps, tokens);
                    Fail(context, $"The AI agent used {tokens} tokens, its limit (MaxTokens {maxTokens}), before answering. Raise MaxTokens or narrow the request.", "Failed");
                    return;
                }
                foreach (var f in functionCalls)
                {
                    var result = await InvokeToolAsync(context, tools, f, steps, cts.Token);
                    messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(f.CallId, Cut(result.Content))]));
                    if (result.ConfirmationRequired is { } question)
                    {
                        Remember(context, messages.Skip(firstNew));
                        var pending = result.PendingAction?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, object?> { ["tool"] = f.Name };
                        PendingAction.Set(context, pending);
                        Answer.Set(context, question);
                        Error.Set(context, "");
                        Journal(context, steps, tokens);
                        context.Complete("NeedsConfirmation");
                        return;
                    }
                }
            }
            Journal(context, steps, tokens);
            Fail(context, $"The AI agent made {maxRounds} model calls (MaxRounds) without a final answer; the model kept calling tools. Raise MaxRounds or make the instructions more direct.", "Failed");
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            Journal(context, steps, tokens);
            Fail(context, $"The AI agent did not finish within {timeout.TotalSeconds:0.###} s (Timeout). Raise Timeout or use a faster model.", "Timeout");
        }
        finally
        {
            if (typing is not null) await typing.DisposeAsync();
        }
    }

    /// <summary>
    /// One model call with <c>"stream": true</c>. Text is pushed to the conversation as a partial reply while it arrives; a
    /// round that turns out to call tools shows nothing (a partial bubble already begun is discarded), so only the final answer
    /// is seen growing. The answer's partial reply is completed, and the next Send Reply replaces it. A failure mid-answer
    /// discards the bubble and throws <see cref="ModelStreamException"/>.
    /// </summary>
    private static async Task<ModelCallResult> StreamRoundAsync(ActivityExecutionContext context, ModelCatalog catalog, string modelName, List<ChatMessage> messages,
        ChatOptions options, IReplyStreams streams, Func<IAsyncDisposable?> typing, Action typingStopped, CancellationToken ct)
    {
        await using var opened = await catalog.StreamAsync(modelName, messages, options, ct);
        var updates = new List<ChatResponseUpdate>();
        IReplyStream? stream = null;
        var callsTools = false;
        try
        {
            await foreach (var update in opened.ReadAsync())
            {
                updates.Add(update);
                if (update.Contents.Any(c => c is FunctionCallContent)) callsTools = true;
                if (callsTools || update.Text is not { Length: > 0 } text) continue;
                if (typing() is { } indicator)
                {
                    await indicator.DisposeAsync();
                    typingStopped();
                }
                stream ??= await streams.OpenAsync(context);
                if (stream is not null) await stream.AppendAsync(text, ct);
            }
            var response = updates.ToChatResponse();
            if (stream is not null)
            {
                if (callsTools || response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Any()) await stream.AbortAsync(CancellationToken.None);
                else await stream.CompleteAsync(ct);
            }
            context.AddJournalData("streamed", true);
            return new ModelCallResult(response, opened.ModelName, opened.Failures);
        }
        catch
        {
            if (stream is not null) await stream.AbortAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            if (stream is not null) await stream.DisposeAsync();
        }
    }

    private async Task<AgentToolResult> InvokeToolAsync(ActivityExecutionContext context, IReadOnlyDictionary<string, IAgentTool> tools, FunctionCallContent call,
        List<Dictionary<string, object?>> steps, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        JsonElement arguments = default;
        AgentToolResult result;
        if (!tools.TryGetValue(call.Name, out var tool))
            result = AgentToolResult.Error($"There is no tool '{call.Name}'. Use one of: {string.Join(", ", tools.Keys)}.");
        else if (call.Exception is { } bad)
            result = AgentToolResult.Error($"The arguments are not valid JSON ({bad.Message}); send a JSON object.");
        else
        {
            arguments = JsonSerializer.SerializeToElement(call.Arguments ?? new Dictionary<string, object?>());
            ct.ThrowIfCancellationRequested();
            try
            {
                result = await tool.InvokeAsync(arguments, context);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException and not ActivityFaultException)
            {
                context.Logger.LogWarning(e, "AI Agent: the tool {Tool} failed", call.Name);
                result = AgentToolResult.Error($"The tool failed: {e.Message}");
            }
        }
        steps.Add(new()
        {
            ["type"] = "tool", ["tool"] = call.Name, ["callId"] = call.CallId,
            ["arguments"] = arguments.ValueKind == JsonValueKind.Undefined ? null : arguments.GetRawText(),
            ["result"] = Cut(result.Content), ["isError"] = result.IsError, ["confirmationRequired"] = result.ConfirmationRequired,
            ["durationMs"] = AiTelemetry.Elapsed(start),
        });
        return result;
    }

    /// <summary>The tools picked in <see cref="Tools"/> that exist now, and the picked names that do not.</summary>
    private async Task<(IReadOnlyDictionary<string, IAgentTool> Tools, List<string> Unknown)> ToolsAsync(ActivityExecutionContext context)
    {
        var wanted = (Tools.Get(context) ?? []).Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var available = await AllToolsAsync(context);
        var tools = new Dictionary<string, IAgentTool>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var name in wanted)
        {
            if (available.TryGetValue(name, out var tool)) tools[name] = tool;
            else unknown.Add(name);
        }
        return (tools, unknown);
    }

    private async Task<IReadOnlyList<string>> AvailableAsync(ActivityExecutionContext context) => (await AllToolsAsync(context)).Keys.Order(StringComparer.Ordinal).ToList();

    private async Task<Dictionary<string, IAgentTool>> AllToolsAsync(ActivityExecutionContext context)
    {
        var all = new Dictionary<string, IAgentTool>(StringComparer.Ordinal);
        if (context.GetService(typeof(IEnumerable<IAgentTool>)) is IEnumerable<IAgentTool> registered)
            foreach (var tool in registered) all.TryAdd(tool.Name, tool);
        if (context.GetService(typeof(IKnowledgeSearch)) is IKnowledgeSearch search)
            all.TryAdd(BuiltInTools.Retrieve, new RetrieveTool(search, KnowledgeBase.Get(context)));
        if (context.GetService(typeof(IEnumerable<IAgentToolSource>)) is IEnumerable<IAgentToolSource> sources)
            foreach (var source in sources)
                foreach (var tool in await source.GetToolsAsync(context.CancellationToken)) all.TryAdd(tool.Name, tool);
        return all;
    }

    private async Task<IReadOnlyList<ConversationTurn>> HistoryAsync(ActivityExecutionContext context)
    {
        var count = Math.Clamp(HistoryTurns.Get(context) ?? AskModel.DefaultHistoryTurns, 0, AskModel.MaxHistoryTurns);
        var key = ConversationMemory.ConversationKeyOf(context);
        if (count == 0 || key is null || context.GetService(typeof(IConversationMemory)) is not IConversationMemory memory) return [];
        return await ConversationMemory.TryGetHistoryAsync(memory, key, ConversationMemory.LastMessageIdOf(context.Properties), count, context.Logger, "AI Agent", context.CancellationToken) ?? [];
    }

    /// <summary>
    /// The tool exchanges of earlier agent runs in this conversation (tool results stay in memory): those of this workflow
    /// instance (for example before the user confirmed) and, through <see cref="IAgentConversationMemory"/>, those of earlier
    /// workflow runs in the same conversation. At most <paramref name="count"/> (HistoryTurns), the newest; 0 replays none.
    /// </summary>
    private static async Task<IEnumerable<ChatMessage>> RememberedAsync(ActivityExecutionContext context, int count)
    {
        if (count <= 0) return [];
        var items = new List<RememberedToolResult>();
        var conversation = ConversationMemory.ConversationKeyOf(context);
        if (conversation is not null && context.GetService(typeof(IAgentConversationMemory)) is IAgentConversationMemory memory)
        {
            try
            {
                items.AddRange(await memory.GetToolResultsAsync(conversation, context.WorkflowInstanceId, count, context.CancellationToken));
            }
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
            {
                context.Logger.LogWarning(e, "AI Agent: the earlier tool results of {Conversation} could not be read; asking without them", conversation);
                context.AddJournalData("toolMemoryError", e.Message);
            }
        }
        if (context.Properties.TryGetValue(MemoryKey(context), out var value)) items.AddRange(ReadRemembered(value));
        var replayed = items.TakeLast(count).ToList();
        if (replayed.Count > 0) context.AddJournalData("rememberedToolResults", replayed.Count);
        // Replayed as short notes, so that no dangling tool_call ids reach the model.
        return replayed.Select(item => new ChatMessage(ChatRole.Assistant, $"(Earlier tool result of {item.Tool}({item.Arguments}): {item.Result})")).ToList();
    }

    /// <summary>Reads the remembered tool results kept in an instance property (a JSON array; null or unreadable: none).</summary>
    public static IReadOnlyList<RememberedToolResult> ReadRemembered(object? value)
    {
        var json = value switch { null => null, string s => s, JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText(), _ => value.ToString() };
        if (string.IsNullOrWhiteSpace(json)) return [];
        try { return JsonSerializer.Deserialize<List<RememberedToolResult>>(json) ?? []; }
        catch (JsonException) { return []; }
    }

    private static void Remember(ActivityExecutionContext context, IEnumerable<ChatMessage> exchange)
    {
        var list = exchange.ToList();
        var calls = list.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToDictionary(c => c.CallId, c => c);
        var results = list.SelectMany(m => m.Contents).OfType<FunctionResultContent>()
            .Where(r => calls.ContainsKey(r.CallId))
            .Select(r => new RememberedToolResult(calls[r.CallId].Name, JsonSerializer.Serialize(calls[r.CallId].Arguments), Cut(r.Result?.ToString() ?? "", 2000)))
            .ToList();
        if (results.Count == 0) return;
        var key = MemoryKey(context);
        var earlier = context.Properties.TryGetValue(key, out var value) ? ReadRemembered(value).ToList() : [];
        earlier.AddRange(results);
        context.Properties[key] = JsonSerializer.Serialize(earlier.TakeLast(20).ToList());
    }

    private static string MemoryKey(ActivityExecutionContext context) => MemoryKeyOf(ConversationMemory.ConversationKeyOf(context));

    /// <summary>The instance property that keeps the agent's tool results of a conversation (<see cref="MemoryPropertyPrefix"/> + the key).</summary>
    public static string MemoryKeyOf(string? conversationKey) => MemoryPropertyPrefix + (conversationKey ?? "workflow");

    private static void Journal(ActivityExecutionContext context, List<Dictionary<string, object?>> steps, long tokens)
    {
        context.AddJournalData("steps", steps);
        context.AddJournalData("tokens", tokens);
    }

    private void Fail(ActivityExecutionContext context, string message, string outcome)
    {
        context.Logger.LogWarning("AI Agent: {Message}", message);
        context.AddJournalData("error", message);
        Error.Set(context, message);
        Answer.Set(context, "");
        context.Complete(outcome);
    }

    private static string Cut(string text, int max = MaxToolResultChars) => text.Length <= max ? text : text[..max] + "…(cut)";

}

/// <summary>A tool call of an earlier agent run, kept so that later runs in the conversation have its result.</summary>
/// <param name="Tool">The tool's name.</param>
/// <param name="Arguments">The arguments as JSON.</param>
/// <param name="Result">The result (cut to 2000 characters).</param>
public sealed record RememberedToolResult(string Tool, string Arguments, string Result);

/// <summary>
/// The tool results of earlier agent runs in a conversation (earlier workflow runs answering earlier messages), so that a
/// follow-up message has them. The server reads them from the conversation's stored workflow instances.
/// </summary>
public interface IAgentConversationMemory
{
    /// <summary>The newest <paramref name="count"/> tool results of earlier runs in the conversation, oldest first, leaving out
    /// the instance <paramref name="exceptInstanceId"/> (the running one, whose results the agent reads itself).</summary>
    Task<IReadOnlyList<RememberedToolResult>> GetToolResultsAsync(string conversationKey, string? exceptInstanceId, int count, CancellationToken cancellationToken);
}

/// <summary>The names of the built-in agent tools.</summary>
public static class BuiltInTools
{
    /// <summary>Read-only SQL on a named data source (data pack).</summary>
    public const string QueryDatabase = "query_database";

    /// <summary>The state of a device (devices pack).</summary>
    public const string GetDeviceState = "get_device_state";

    /// <summary>A device command; high-risk ones need confirmation (devices pack).</summary>
    public const string ControlDevice = "control_device";

    /// <summary>Knowledge base search (when an <see cref="IKnowledgeSearch"/> is registered).</summary>
    public const string Retrieve = "retrieve";
}

/// <summary>The agent's <c>retrieve</c> tool over <see cref="IKnowledgeSearch"/>.</summary>
public sealed class RetrieveTool(IKnowledgeSearch search, string? defaultKnowledgeBase) : IAgentTool
{
    /// <inheritdoc />
    public string Name => BuiltInTools.Retrieve;

    /// <inheritdoc />
    public string Description => "Searches the knowledge base and returns the best passages with their sources; cite the sources in the answer.";

    /// <inheritdoc />
    public JsonElement ParametersSchema { get; } = AgentToolSchema.Object(
        ("query", "string", "What to look for.", true),
        ("knowledgeBase", "string", "The knowledge base (optional).", false),
        ("top", "integer", "How many passages (default 5, at most 20).", false));

    /// <inheritdoc />
    public async Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var query = AgentToolSchema.String(arguments, "query");
        if (string.IsNullOrWhiteSpace(query)) return AgentToolResult.Error("The query argument is empty.");
        var kb = AgentToolSchema.String(arguments, "knowledgeBase") is { Length: > 0 } k ? k : defaultKnowledgeBase;
        if (string.IsNullOrWhiteSpace(kb)) return AgentToolResult.Error("No knowledge base: send knowledgeBase, or set the agent's KnowledgeBase input.");
        var top = AgentToolSchema.Value(arguments, "top") is long n ? (int)Math.Clamp(n, 1, 20) : 5;
        var hits = await search.SearchAsync(kb.Trim(), query, top, context.CancellationToken);
        return AgentToolResult.Json(hits.Select(h => new Dictionary<string, object?> { ["text"] = h.Text, ["source"] = h.Source, ["title"] = h.Title, ["score"] = h.Score }).ToList());
    }
}
