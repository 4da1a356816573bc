using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>
/// A loopback OpenAI chat completions API: <c>POST /v1/chat/completions</c> with <c>Authorization: Bearer {key}</c> (401
/// <c>invalid_api_key</c> otherwise), a JSON body with a known <c>model</c> (400 when missing, 404 <c>model_not_found</c>
/// when unknown) and a non-empty <c>messages</c> array of <c>{role, content}</c> (400 otherwise). It answers in the real
/// <c>chat.completion</c> shape; the answer comes from <see cref="Answer"/> (default: echo of the last user message).
/// Other paths answer 404 the way the service does. With <c>"stream": true</c> it answers server-sent events of
/// <c>chat.completion.chunk</c>s (see <see cref="StreamChunkDelay"/>, <see cref="FailStreamAfterDeltas"/>).
/// </summary>
public sealed class FakeOpenAiServer : FakeServer
{
    private static readonly string[] Roles = ["system", "user", "assistant", "tool", "developer", "function"];
    private readonly ConcurrentQueue<JsonArray> _conversations = new();
    private int _counter;

    private FakeOpenAiServer(string apiKey, string[] models)
    {
        ApiKey = apiKey;
        Models = models;
    }

    /// <summary>The accepted API key.</summary>
    public string ApiKey { get; }

    /// <summary>The models it knows.</summary>
    public IReadOnlyList<string> Models { get; }

    /// <summary>The base URL clients configure, <c>http://127.0.0.1:{port}/v1</c>.</summary>
    public Uri ApiBase => new(BaseUrl, "v1");

    /// <summary>The message arrays of accepted requests, in order.</summary>
    public IReadOnlyList<JsonArray> Conversations => [.. _conversations];

    /// <summary>Makes the answer from the request's messages. Default: <c>"You said: {last user message}"</c>.</summary>
    public Func<JsonArray, string> Answer { get; set; } = messages =>
        "You said: " + (messages.LastOrDefault(m => m?["role"]?.GetValue<string>() == "user")?["content"]?.ToString() ?? "");

    /// <summary>
    /// Scripts the reply per request (tool calls or text) from the messages and the whole request body; null falls back to
    /// <see cref="Answer"/>. See <see cref="FakeOpenAiReply"/>.
    /// </summary>
    public Func<JsonArray, JsonObject, FakeOpenAiReply?>? Reply { get; set; }

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeOpenAiServer> StartAsync(string apiKey = "sk-test-0123456789abcdef", params string[] models)
    {
        var server = new FakeOpenAiServer(apiKey, models.Length > 0 ? models : ["gpt-4o-mini"]);
        await server.StartServerAsync();
        return server;
    }

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        if (request.Method != "POST" || request.Path != "/v1/chat/completions")
            return Task.FromResult(Error(404, $"Invalid URL ({request.Method} {request.Path})", "invalid_request_error", null));
        var auth = request.Header("Authorization");
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal))
            return Task.FromResult(Error(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error", null));
        if (auth["Bearer ".Length..] != ApiKey)
            return Task.FromResult(Error(401, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error", "invalid_api_key"));
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true || request.Json is not JsonObject body)
            return Task.FromResult(Error(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
                "invalid_request_error", null));
        if (body["model"] is not JsonValue modelValue || !modelValue.TryGetValue<string>(out var model) || model.Length == 0)
            return Task.FromResult(Error(400, "you must provide a model parameter", "invalid_request_error", null));
        if (!Models.Contains(model))
            return Task.FromResult(Error(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"));
        if (body["messages"] is not JsonArray messages || messages.Count == 0)
            return Task.FromResult(Error(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                "invalid_request_error", "empty_array", "messages"));
        for (var i = 0; i < messages.Count; i++)
        {
            var role = messages[i]?["role"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null;
            if (role is null || !Roles.Contains(role))
                return Task.FromResult(Error(400, $"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                    "invalid_request_error", "invalid_value", $"messages[{i}].role"));
            if (messages[i]?["content"] is null && role is "system" or "user")
                return Task.FromResult(Error(400, $"Missing required parameter: 'messages[{i}].content'.", "invalid_request_error", "missing_required_parameter", $"messages[{i}].content"));
        }
        var stream = false;
        if (body["stream"] is { } streamNode && streamNode.GetValueKind() is not JsonValueKind.Null)
        {
            if (streamNode.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                return Task.FromResult(Error(400, $"Invalid type for 'stream': expected a boolean, but got {KindName(streamNode)} instead.", "invalid_request_error", "invalid_type", "stream"));
            stream = streamNode.GetValue<bool>();
        }
        if (body["stream_options"] is { } streamOptions && streamOptions.GetValueKind() is not JsonValueKind.Null)
        {
            if (!stream)
                return Task.FromResult(Error(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "invalid_request_error", null, "stream_options"));
            if (streamOptions is not JsonObject)
                return Task.FromResult(Error(400, $"Invalid type for 'stream_options': expected an object, but got {KindName(streamOptions)} instead.", "invalid_request_error", "invalid_type", "stream_options"));
        }
        if (ValidateTools(body, messages) is { } invalid) return Task.FromResult(invalid);
        _conversations.Enqueue((JsonArray)messages.DeepClone());
        var includeUsage = body["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True;
        if (Reply?.Invoke(messages, body) is { } reply)
            return Task.FromResult(stream ? Stream(model, messages, reply, includeUsage, context) : ReplyResponse(reply, model, messages));
        var answer = Answer(messages);
        if (stream) return Task.FromResult(Stream(model, messages, FakeOpenAiReply.Text(answer), includeUsage, context));
        var promptTokens = messages.Sum(m => (m?["content"]?.ToString() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + 4);
        var completionTokens = answer.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var n = Interlocked.Increment(ref _counter);
        var response = new JsonObject
        {
            ["id"] = "chatcmpl-fake" + n.ToString("D6", CultureInfo.InvariantCulture),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer, ["refusal"] = null, ["annotations"] = new JsonArray() },
                ["logprobs"] = null,
                ["finish_reason"] = "stop",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = promptTokens,
                ["completion_tokens"] = completionTokens,
                ["total_tokens"] = promptTokens + completionTokens,
            },
            ["service_tier"] = "default",
            ["system_fingerprint"] = "fp_fake",
        };
        return Task.FromResult(FakeResponse.Json(200, response, new Dictionary<string, string> { ["x-request-id"] = "req_fake" + n }));
    }

    /// <summary>Streaming (<c>"stream": true</c>): how long the fake waits before each chunk. Default none.</summary>
    public TimeSpan StreamChunkDelay { get; set; }

    /// <summary>Streaming: how the answer is cut into content deltas. Default: one delta per word (with its following space).</summary>
    public Func<string, IReadOnlyList<string>> StreamDeltas { get; set; } = answer =>
        System.Text.RegularExpressions.Regex.Split(answer, @"(?<=\s)(?=\S)").Where(p => p.Length > 0).ToList();

    /// <summary>Streaming: when set, the connection is cut (no final chunk, no <c>[DONE]</c>) after this many content
    /// deltas, as when the model server dies mid-answer. Applies to every streamed request until reset.</summary>
    public int? FailStreamAfterDeltas { get; set; }

    /// <summary>How many streamed requests were answered (with or without a failure).</summary>
    public int StreamedRequests => _streamed;

    private int _streamed;

    /// <summary>
    /// The <c>text/event-stream</c> answer as OpenAI shapes it: <c>data: {chat.completion.chunk}</c> events, first with
    /// <c>delta.role</c> (and empty content, or <c>content: null</c> and the first tool call), then one per content delta, then
    /// for tool calls a chunk opening each call (<c>tool_calls: [{index, id, type: "function", function: {name, arguments: ""}}]</c>)
    /// followed by its <c>arguments</c> in fragments (<c>tool_calls: [{index, function: {arguments}}]</c>), then an empty
    /// delta with <c>finish_reason</c> <c>"stop"</c> or <c>"tool_calls"</c>, then (with <c>stream_options.include_usage</c>) a
    /// chunk with empty <c>choices</c> and the <c>usage</c> (every other chunk then carries <c>"usage": null</c>), then
    /// <c>data: [DONE]</c>.
    /// </summary>
    private FakeResponse Stream(string model, JsonArray messages, FakeOpenAiReply reply, bool includeUsage, HttpContext context)
    {
        Interlocked.Increment(ref _streamed);
        var n = Interlocked.Increment(ref _counter);
        var id = "chatcmpl-fake" + n.ToString("D6", CultureInfo.InvariantCulture);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        IReadOnlyList<string> deltas = string.IsNullOrEmpty(reply.Content) ? [] : StreamDeltas(reply.Content);
        var failAfter = FailStreamAfterDeltas;
        var delay = StreamChunkDelay;
        JsonObject Chunk(JsonObject? delta, string? finish)
        {
            var chunk = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model, ["service_tier"] = "default",
                ["system_fingerprint"] = "fp_fake",
                ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject
                {
                    ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish,
                }),
            };
            if (includeUsage) chunk["usage"] = null;
            return chunk;
        }
        JsonObject OpenCall(int index) => new()
        {
            ["index"] = index, ["id"] = $"call_fake{n:D4}{index:D2}", ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = reply.ToolCalls[index].Name, ["arguments"] = "" },
        };
        var recorded = new System.Text.StringBuilder();
        async Task Write(Stream body, string data, CancellationToken ct)
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ct);
            var line = "data: " + data + "\n\n";
            recorded.Append(line);
            await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line), ct);
            await body.FlushAsync(ct);
        }
        return new FakeResponse(200, "", "text/event-stream; charset=utf-8", new Dictionary<string, string> { ["x-request-id"] = "req_fake" + n, ["cache-control"] = "no-cache" })
        {
            Streamed = async (body, ct) =>
            {
                var first = new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null };
                var calls = reply.ToolCalls.Count;
                var firstCallOpened = false;
                if (deltas.Count == 0 && calls > 0)
                {
                    first["content"] = null;
                    first["tool_calls"] = new JsonArray(OpenCall(0));
                    firstCallOpened = true;
                }
                await Write(body, Chunk(first, null).ToJsonString(), ct);
                for (var i = 0; i < deltas.Count; i++)
                {
                    if (failAfter is { } limit && i >= limit)
                    {
                        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct); // lets the client read what was sent before the cut
                        context.Abort();
                        return;
                    }
                    await Write(body, Chunk(new JsonObject { ["content"] = deltas[i] }, null).ToJsonString(), ct);
                }
                for (var c = 0; c < calls; c++)
                {
                    if (c > 0 || !firstCallOpened) await Write(body, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(OpenCall(c)) }, null).ToJsonString(), ct);
                    var arguments = reply.ToolCalls[c].Arguments;
                    for (var k = 0; k < arguments.Length; k += 12)
                    {
                        var fragment = arguments.Substring(k, Math.Min(12, arguments.Length - k));
                        await Write(body, Chunk(new JsonObject
                        {
                            ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = c, ["function"] = new JsonObject { ["arguments"] = fragment } }),
                        }, null).ToJsonString(), ct);
                    }
                }
                await Write(body, Chunk(new JsonObject(), calls > 0 ? "tool_calls" : "stop").ToJsonString(), ct);
                if (includeUsage)
                {
                    var promptTokens = messages.Sum(m => (m?["content"]?.ToString() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + 4);
                    var completionTokens = deltas.Count + reply.ToolCalls.Sum(t => t.Arguments.Length / 4 + 3);
                    var usage = Chunk(null, null);
                    usage["usage"] = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completionTokens, ["total_tokens"] = promptTokens + completionTokens };
                    await Write(body, usage.ToJsonString(), ct);
                }
                await Write(body, "[DONE]", ct);
            },
        };
    }

    private static string KindName(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "a boolean",
    };

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        Error(429, "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded",
            headers: new Dictionary<string, string> { ["retry-after"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture) });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) =>
        Error(status, "The server had an error while processing your request. Sorry about that!", "server_error", null);

    /// <summary>
    /// Checks function calling as the API does: <c>tools</c> is an array of <c>{type:"function", function:{name, description?,
    /// parameters?}}</c> with names of letters, digits, <c>_</c> and <c>-</c> (at most 64); <c>tool_choice</c> is none, auto,
    /// required or <c>{type:"function", function:{name}}</c> naming a tool; an assistant message's <c>tool_calls</c> are
    /// <c>{id, type:"function", function:{name, arguments (a string)}}</c> and each is answered by a following
    /// <c>role:"tool"</c> message with its <c>tool_call_id</c>; a tool message answers such a call. Null when valid.
    /// </summary>
    private static FakeResponse? ValidateTools(JsonObject body, JsonArray messages)
    {
        var toolNames = new List<string>();
        if (body["tools"] is { } toolsNode)
        {
            if (toolsNode is not JsonArray tools)
                return Error(400, "Invalid type for 'tools': expected an array, but got an object instead.", "invalid_request_error", "invalid_type", "tools");
            for (var i = 0; i < tools.Count; i++)
            {
                if (tools[i] is not JsonObject tool || tool["type"]?.ToString() != "function")
                    return Error(400, $"Invalid value: '{tools[i]?["type"]}'. Supported values are: 'function' and 'custom'.", "invalid_request_error", "invalid_value", $"tools[{i}].type");
                if (tool["function"] is not JsonObject function)
                    return Error(400, $"Missing required parameter: 'tools[{i}].function'.", "invalid_request_error", "missing_required_parameter", $"tools[{i}].function");
                var name = function["name"] is JsonValue n && n.TryGetValue<string>(out var text) ? text : null;
                if (name is null)
                    return Error(400, $"Missing required parameter: 'tools[{i}].function.name'.", "invalid_request_error", "missing_required_parameter", $"tools[{i}].function.name");
                if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-zA-Z0-9_-]{1,64}$"))
                    return Error(400, $"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                        "invalid_request_error", "invalid_value", $"tools[{i}].function.name");
                if (function["parameters"] is { } parameters && (parameters is not JsonObject schema || schema["type"]?.ToString() != "object"))
                    return Error(400, $"Invalid schema for function '{name}': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{parameters["type"]}\"'.",
                        "invalid_request_error", "invalid_function_parameters", $"tools[{i}].function.parameters");
                toolNames.Add(name);
            }
        }
        var toolChoice = body["tool_choice"];
        if (toolChoice is JsonValue choiceValue && choiceValue.TryGetValue<string>(out var choice))
        {
            if (choice is not ("none" or "auto" or "required"))
                return Error(400, $"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.", "invalid_request_error", "invalid_value", "tool_choice");
            if (choice == "required" && toolNames.Count == 0)
                return Error(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "invalid_request_error", null, "tool_choice");
        }
        else if (toolChoice is JsonObject choiceObject)
        {
            var forced = choiceObject["function"] is JsonObject forcedFunction ? forcedFunction["name"]?.ToString() : null;
            if (choiceObject["type"]?.ToString() != "function" || forced is null)
                return Error(400, "Invalid value for 'tool_choice'.", "invalid_request_error", "invalid_value", "tool_choice");
            if (!toolNames.Contains(forced))
                return Error(400, $"Invalid value for 'tool_choice': tool '{forced}' not found in 'tools'.", "invalid_request_error", null, "tool_choice");
        }
        else if (toolChoice is not null)
            return Error(400, "Invalid value for 'tool_choice'.", "invalid_request_error", "invalid_value", "tool_choice");
        var open = new List<string>(); // tool_call ids waiting for their tool message
        for (var i = 0; i < messages.Count; i++)
        {
            var message = (JsonObject)messages[i]!;
            var role = message["role"]!.GetValue<string>();
            if (role != "tool" && open.Count > 0)
                return Error(400, $"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {string.Join(", ", open)}",
                    "invalid_request_error", null, $"messages.[{i}].role");
            if (role == "assistant" && message["tool_calls"] is { } callsNode)
            {
                if (callsNode is not JsonArray calls || calls.Count == 0)
                    return Error(400, $"Invalid 'messages[{i}].tool_calls': empty array. Expected an array with minimum length 1.", "invalid_request_error", "empty_array", $"messages[{i}].tool_calls");
                for (var j = 0; j < calls.Count; j++)
                {
                    var call = calls[j] as JsonObject;
                    var id = call?["id"] is JsonValue idValue && idValue.TryGetValue<string>(out var idText) ? idText : null;
                    if (id is null)
                        return Error(400, $"Missing required parameter: 'messages[{i}].tool_calls[{j}].id'.", "invalid_request_error", "missing_required_parameter", $"messages[{i}].tool_calls[{j}].id");
                    if (call!["type"]?.ToString() != "function")
                        return Error(400, $"Missing required parameter: 'messages[{i}].tool_calls[{j}].type'.", "invalid_request_error", "missing_required_parameter", $"messages[{i}].tool_calls[{j}].type");
                    if (call["function"] is not JsonObject f || f["name"] is null || f["arguments"] is not JsonValue args || !args.TryGetValue<string>(out _))
                        return Error(400, $"Invalid 'messages[{i}].tool_calls[{j}].function': expected an object with 'name' and 'arguments' (a JSON string).",
                            "invalid_request_error", "invalid_type", $"messages[{i}].tool_calls[{j}].function");
                    open.Add(id);
                }
            }
            if (role == "tool")
            {
                var id = message["tool_call_id"] is JsonValue t && t.TryGetValue<string>(out var text) ? text : null;
                if (id is null)
                    return Error(400, $"Missing required parameter: 'messages[{i}].tool_call_id'.", "invalid_request_error", "missing_required_parameter", $"messages[{i}].tool_call_id");
                if (!open.Remove(id))
                    return Error(400, "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", "invalid_request_error", null, $"messages.[{i}].role");
                if (message["content"] is null)
                    return Error(400, $"Missing required parameter: 'messages[{i}].content'.", "invalid_request_error", "missing_required_parameter", $"messages[{i}].content");
            }
        }
        if (open.Count > 0)
            return Error(400, $"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {string.Join(", ", open)}",
                "invalid_request_error", null, "messages");
        return null;
    }

    private FakeResponse ReplyResponse(FakeOpenAiReply reply, string model, JsonArray messages)
    {
        var n = Interlocked.Increment(ref _counter);
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Content, ["refusal"] = null, ["annotations"] = new JsonArray() };
        if (reply.ToolCalls.Count > 0)
        {
            var calls = new JsonArray();
            var k = 0;
            foreach (var (name, arguments) in reply.ToolCalls)
                calls.Add(new JsonObject
                {
                    ["id"] = $"call_fake{n:D4}{k++:D2}", ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
                });
            message["tool_calls"] = calls;
        }
        var promptTokens = messages.Sum(m => (m?["content"]?.ToString() ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + 4);
        var completionTokens = (reply.Content ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + reply.ToolCalls.Sum(c => c.Arguments.Length / 4 + 3);
        var response = new JsonObject
        {
            ["id"] = "chatcmpl-fake" + n.ToString("D6", CultureInfo.InvariantCulture),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0, ["message"] = message, ["logprobs"] = null, ["finish_reason"] = reply.ToolCalls.Count > 0 ? "tool_calls" : "stop",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completionTokens, ["total_tokens"] = promptTokens + completionTokens,
            },
            ["service_tier"] = "default",
            ["system_fingerprint"] = "fp_fake",
        };
        return FakeResponse.Json(200, response, new Dictionary<string, string> { ["x-request-id"] = "req_fake" + n });
    }

    private static FakeResponse Error(int status, string message, string type, string? code, string? param = null, IReadOnlyDictionary<string, string>? headers = null) =>
        FakeResponse.Json(status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = code },
        }, headers);
}

/// <summary>A scripted reply of <see cref="FakeOpenAiServer"/>: text, or tool calls (name and arguments as JSON text).</summary>
public sealed record FakeOpenAiReply(string? Content, IReadOnlyList<(string Name, string Arguments)> ToolCalls)
{
    /// <summary>A text answer (finish_reason stop).</summary>
    public static FakeOpenAiReply Text(string content) => new(content, []);

    /// <summary>One or more tool calls (finish_reason tool_calls).</summary>
    public static FakeOpenAiReply Calls(params (string Name, string Arguments)[] calls) => new(null, calls);
}
