using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Platform.Activities.AI;

/// <summary>The OpenAI-compatible chat completion endpoint of <see cref="AskModel"/> (<c>Platform:AI:ChatCompletion</c>).</summary>
public sealed class ChatCompletionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:AI:ChatCompletion";

    /// <summary>The API base URL, for example <c>https://api.openai.com/v1</c> or <c>http://localhost:11434/v1</c>;
    /// requests go to <c>{Endpoint}/chat/completions</c>. A URL without a path gets <c>/v1</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The model, for example <c>gpt-4o-mini</c>.</summary>
    public string? Model { get; set; }

    /// <summary>The API key, sent as <c>Authorization: Bearer</c> (optional for local servers).</summary>
    public string? ApiKey { get; set; }

    /// <summary>How long one request may take. Default 60 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The sampling temperature; null leaves the server's default.</summary>
    public double? Temperature { get; set; }

    /// <summary>The most tokens of the answer; null leaves the server's default.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>True when an endpoint and a model are set.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Endpoint) && !string.IsNullOrWhiteSpace(Model);
}

/// <summary>Sends chat completions through Semantic Kernel's OpenAI connector. One per host.</summary>
public sealed class ChatModelClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly IChatCompletionService? _service;

    /// <summary>Creates the client; an incomplete configuration makes <see cref="IsConfigured"/> false.</summary>
    /// <exception cref="ArgumentException">The endpoint is not an absolute http(s) URL.</exception>
    public ChatModelClient(ChatCompletionOptions options, ILoggerFactory? loggerFactory = null)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _http = new HttpClient { Timeout = options.Timeout > TimeSpan.Zero ? options.Timeout : TimeSpan.FromSeconds(60) };
        if (!options.IsConfigured) return;
#pragma warning disable SKEXP0010 // the endpoint overload is how SK reaches OpenAI-compatible servers
        _service = new OpenAIChatCompletionService(options.Model!.Trim(), EndpointUri(options.Endpoint!), string.IsNullOrWhiteSpace(options.ApiKey) ? null : options.ApiKey.Trim(),
            httpClient: _http, loggerFactory: loggerFactory);
#pragma warning restore SKEXP0010
    }

    /// <summary>The options.</summary>
    public ChatCompletionOptions Options { get; }

    /// <summary>True when an endpoint and a model are configured.</summary>
    [MemberNotNullWhen(true, nameof(_service))]
    public bool IsConfigured => _service is not null;

    /// <summary>Asks the model; returns the answer text.</summary>
    /// <exception cref="InvalidOperationException">Not configured.</exception>
    public Task<string> AskAsync(string? system, string user, CancellationToken cancellationToken = default) =>
        AskAsync(system, [], user, cancellationToken);

    /// <summary>Asks the model with earlier turns of the conversation: the system message, then the turns in order (as
    /// user and assistant messages), then <paramref name="user"/>. Returns the answer text.</summary>
    /// <exception cref="InvalidOperationException">Not configured.</exception>
    public async Task<string> AskAsync(string? system, IReadOnlyList<ConversationTurn> turns, string user, CancellationToken cancellationToken = default)
    {
        if (!IsConfigured) throw new InvalidOperationException(NotConfiguredMessage);
        ArgumentNullException.ThrowIfNull(turns);
        var history = History(system, turns, user);
        var settings = new OpenAIPromptExecutionSettings { Temperature = Options.Temperature, MaxTokens = Options.MaxTokens };
        var answer = await _service.GetChatMessageContentAsync(history, settings, cancellationToken: cancellationToken).ConfigureAwait(false);
        return answer.Content ?? "";
    }

    /// <summary>
    /// Asks the model like <see cref="AskAsync(string?, IReadOnlyList{ConversationTurn}, string, CancellationToken)"/> but
    /// streams the answer (<c>"stream": true</c> through Semantic Kernel's <c>GetStreamingChatMessageContentsAsync</c>):
    /// yields the text deltas as the server sends them; their concatenation is the answer. Empty deltas are skipped.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not configured.</exception>
    public async IAsyncEnumerable<string> StreamAsync(string? system, IReadOnlyList<ConversationTurn> turns, string user,
        [global::System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!IsConfigured) throw new InvalidOperationException(NotConfiguredMessage);
        ArgumentNullException.ThrowIfNull(turns);
        var history = History(system, turns, user);
        var settings = new OpenAIPromptExecutionSettings { Temperature = Options.Temperature, MaxTokens = Options.MaxTokens };
        await foreach (var chunk in _service.GetStreamingChatMessageContentsAsync(history, settings, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (!string.IsNullOrEmpty(chunk.Content)) yield return chunk.Content;
        }
    }

    private static ChatHistory History(string? system, IReadOnlyList<ConversationTurn> turns, string user)
    {
        var history = new ChatHistory();
        if (!string.IsNullOrWhiteSpace(system)) history.AddSystemMessage(system);
        foreach (var turn in turns)
        {
            if (turn.Role == ConversationRole.Assistant) history.AddAssistantMessage(turn.Text);
            else history.AddUserMessage(turn.Text);
        }
        history.AddUserMessage(user);
        return history;
    }

    /// <summary>What to do when the endpoint is not configured.</summary>
    public const string NotConfiguredMessage =
        "No chat model is configured. Set Platform:AI:ChatCompletion:Endpoint (e.g. https://api.openai.com/v1 or http://localhost:11434/v1), " +
        "Platform:AI:ChatCompletion:Model and, if the server needs one, Platform:AI:ChatCompletion:ApiKey.";

    /// <summary>The endpoint as a URI; a URL without a path gets <c>/v1</c>.</summary>
    /// <exception cref="ArgumentException">Not an absolute http(s) URL.</exception>
    public static Uri EndpointUri(string endpoint)
    {
        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Platform:AI:ChatCompletion:Endpoint '{endpoint}' is not an absolute http(s) URL, e.g. https://api.openai.com/v1.", nameof(endpoint));
        return uri.AbsolutePath is "" or "/" ? new Uri(uri, "/v1") : uri;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

/// <summary>
/// Asks a chat model (an OpenAI-compatible endpoint through Semantic Kernel) and returns its answer. Outcomes: <c>Done</c>,
/// <c>NotConfigured</c> when no endpoint is configured, <c>Failed</c> when the call fails (see <see cref="Error"/>).
/// </summary>
/// <remarks>
/// In a workflow started by a message, the last <see cref="HistoryTurns"/> turns of the conversation (from
/// <see cref="IConversationMemory"/>) go to the model as user and assistant messages between the system message and
/// the prompt, so "and in the bedroom?" is understood. The message the workflow is handling now is not part of that
/// history: put it into <see cref="Text"/> or the prompt.
/// </remarks>
[Activity("Platform", "AI", "Asks a chat model (OpenAI-compatible endpoint) and returns its answer.")]
[FlowNode("Done", "NotConfigured", "Failed")]
public class AskModel : Activity
{
    /// <summary>The instruction or question.</summary>
    [Input(Description = "The instruction or question, e.g. \"Summarise the customer's request in one sentence.\"", UIHint = UIHints.MultiLine, Order = 0)]
    public Input<string> Prompt { get; set; } = new("");

    /// <summary>The system message (optional).</summary>
    [Input(Description = "Optional system message: the assistant's role and rules.", UIHint = UIHints.MultiLine, Order = 1)]
    public Input<string> System { get; set; } = new("");

    /// <summary>Text the prompt is about (optional), appended after the prompt.</summary>
    [Input(Description = "The text the prompt is about, sent after the prompt. Empty: the message the workflow is answering (none when the workflow was not started by a message).", UIHint = UIHints.MultiLine, Order = 2)]
    public Input<string> Text { get; set; } = new("");

    /// <summary>How many earlier turns of the conversation go to the model (default 10; 0 sends none).</summary>
    [Input(Description = "How many earlier turns of the conversation (messages and replies) go to the model before the prompt. Default 10; 0 sends none.", Order = 3)]
    public Input<int?> HistoryTurns { get; set; } = new(DefaultHistoryTurns);

    /// <summary>The conversation whose turns are sent; empty means the conversation of the message that started or resumed the workflow.</summary>
    [Input(Description = "Optional conversation key (channel:chat[:thread]) whose history is sent. Empty: the conversation of the workflow's message.", Order = 4)]
    public Input<string> Conversation { get; set; } = new("");

    /// <summary>Whether to stream the answer to the conversation as it is written (default on).</summary>
    [Input(Description = "Show the answer while it is being written, on channels that can (the web chat shows a growing bubble that the next Send Reply replaces). Other channels just get the final reply. Default on.", Order = 5)]
    public Input<bool?> Stream { get; set; } = new(true);
    /// <summary>The named model (<c>Platform:AI:Models:{name}</c>); empty or <c>default</c> uses <c>Platform:AI:ChatCompletion</c>.</summary>
    [Input(Description = "The model endpoint (configured under Platform:AI:Models). Empty: default.", UIHint = UIHints.DropDown, Options = [ModelCatalog.DefaultName], Order = 5)]
    public Input<string> Model { get; set; } = new("");

    /// <summary>The model's answer.</summary>
    [Output(Description = "The model's answer.")]
    public Output<string> Answer { get; set; } = new();

    /// <summary>Why the call failed or was not made.</summary>
    [Output(Description = "Why the call failed (Failed) or was not made (NotConfigured).")]
    public Output<string> Error { get; set; } = new();

    /// <summary>The default of <see cref="HistoryTurns"/>.</summary>
    public const int DefaultHistoryTurns = 10;

    /// <summary>The most turns <see cref="HistoryTurns"/> may ask for.</summary>
    public const int MaxHistoryTurns = 100;

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (NamedModels.IsNamed(Model.Get(context)))
        {
            await NamedModels.AskAsync(this, context, Model.Get(context)!.Trim(), await HistoryAsync(context));
            return;
        }
        var client = context.GetService(typeof(ChatModelClient)) as ChatModelClient;
        if (client is null || !client.IsConfigured)
        {
            context.Logger.LogWarning("Ask Model: {Message}", ChatModelClient.NotConfiguredMessage);
            Error.Set(context, ChatModelClient.NotConfiguredMessage);
            context.Complete("NotConfigured");
            return;
        }
        var prompt = Prompt.Get(context) ?? "";
        var text = context.TextOrIncomingMessage(Text.Get(context));
        var user = string.IsNullOrWhiteSpace(text) ? prompt : string.IsNullOrWhiteSpace(prompt) ? text : $"{prompt}\n\n{text}";
        if (string.IsNullOrWhiteSpace(user))
        {
            Error.Set(context, "Ask Model has nothing to ask: set Prompt (and/or Text).");
            context.Complete("Failed");
            return;
        }
        try
        {
            var turns = await HistoryAsync(context);
            var typing = context.GetService(typeof(ITypingIndicator)) is ITypingIndicator indicator ? await indicator.StartAsync(context) : null;
            string answer;
            try
            {
                var streams = Stream.Get(context) != false ? context.GetService(typeof(IReplyStreams)) as IReplyStreams : null;
                var stream = streams is null ? null : await streams.OpenAsync(context);
                answer = stream is null
                    ? await client.AskAsync(System.Get(context), turns, user, context.CancellationToken)
                    : await StreamAnswerAsync(context, client, stream, turns, user, () => typing);
                context.AddJournalData("streamed", stream is not null);
            }
            finally
            {
                if (typing is not null) await typing.DisposeAsync();
            }
            Answer.Set(context, answer);
            context.AddJournalData("model", client.Options.Model);
            context.AddJournalData("historyTurns", turns.Count);
            context.Complete("Done");
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && e is HttpOperationException or HttpRequestException or TaskCanceledException or KernelException or InvalidOperationException or global::System.ClientModel.ClientResultException or IOException)
        {
            var status = e is HttpOperationException { StatusCode: { } code } ? $" (HTTP {(int)code})" : "";
            var message = $"The chat model at {client.Options.Endpoint} failed{status}: {e.Message} Check Platform:AI:ChatCompletion (endpoint, model, API key).";
            context.Logger.LogWarning(e, "Ask Model failed");
            Error.Set(context, message);
            context.Complete("Failed");
        }
    }

    /// <summary>Streams the answer into <paramref name="stream"/>; the typing indicator stops at the first delta. On failure the
    /// partial reply is discarded (nothing half-written stays) and the exception goes on.</summary>
    private async Task<string> StreamAnswerAsync(ActivityExecutionContext context, ChatModelClient client, IReplyStream stream,
        IReadOnlyList<ConversationTurn> turns, string user, Func<IAsyncDisposable?> typing)
    {
        await using (stream)
        {
            var answer = new global::System.Text.StringBuilder();
            try
            {
                await foreach (var delta in client.StreamAsync(System.Get(context), turns, user, context.CancellationToken))
                {
                    if (answer.Length == 0 && typing() is { } indicator) await indicator.DisposeAsync();
                    answer.Append(delta);
                    await stream.AppendAsync(delta, context.CancellationToken);
                }
            }
            catch
            {
                await stream.AbortAsync(CancellationToken.None);
                throw;
            }
            await stream.CompleteAsync(context.CancellationToken);
            return answer.ToString();
        }
    }

    /// <summary>The earlier turns of the conversation, oldest first, without the message being handled now. Empty when the
    /// workflow has no conversation or the host has no memory; a memory that fails is logged and skipped (the model is still asked).</summary>
    private async Task<IReadOnlyList<ConversationTurn>> HistoryAsync(ActivityExecutionContext context)
    {
        var count = Math.Clamp(HistoryTurns.Get(context) ?? DefaultHistoryTurns, 0, MaxHistoryTurns);
        var key = Conversation.Get(context) is { Length: > 0 } k && !string.IsNullOrWhiteSpace(k) ? k.Trim() : ConversationMemory.ConversationKeyOf(context);
        if (count == 0 || key is null || context.GetService(typeof(IConversationMemory)) is not IConversationMemory memory) return [];
        try
        {
            // One more than asked: the message being handled is left out when a finished run already counts it as processed.
            var turns = await memory.GetRecentTurnsAsync(key, count + 1, context.CancellationToken);
            var current = context.Properties.TryGetValue(ConversationMemory.LastMessageIdProperty, out var id) ? id?.ToString() : null;
            return turns.Where(t => !(t.Role == ConversationRole.User && current is not null && t.MessageId == current)).TakeLast(count).ToList();
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            context.Logger.LogWarning(e, "Ask Model: the conversation history of {Conversation} could not be read; asking without it", key);
            context.AddJournalData("historyError", e.Message);
            return [];
        }
    }
}
