using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Testing.Fakes;

namespace Platform.Activities.AI.Tests;

/// <summary><see cref="ChatModelClient.StreamAsync"/> through Semantic Kernel against the fake's server-sent events, and the
/// fake's event stream itself in the shape OpenAI documents.</summary>
public sealed class ChatModelStreamingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ChatModelClient Client(FakeOpenAiServer server) => new(new ChatCompletionOptions
    {
        Endpoint = server.ApiBase.ToString(), Model = "gpt-4o-mini", ApiKey = server.ApiKey,
    });

    [Fact]
    public async Task Should_YieldTheDeltasInOrder_When_TheModelStreams()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = _ => "Three little words.";
        using var client = Client(server);

        // Act
        var deltas = new List<string>();
        await foreach (var delta in client.StreamAsync("Be brief.", [], "say something", Ct)) deltas.Add(delta);

        // Assert
        Assert.Equal(["Three ", "little ", "words."], deltas);
        var request = Assert.Single(server.Requests);
        Assert.True(request.Json!["stream"]!.GetValue<bool>());
        Assert.Equal(200, request.ResponseStatus);
    }

    [Fact]
    public async Task Should_Throw_When_The_Stream_Is_Cut_Before_The_End()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = _ => "one two three four five";
        server.FailStreamAfterDeltas = 2;
        server.StreamChunkDelay = TimeSpan.FromMilliseconds(100); // the client reads each delta before the connection is cut
        using var client = Client(server);
        var deltas = new List<string>();

        // Act
        var error = await Record.ExceptionAsync(async () =>
        {
            await foreach (var delta in client.StreamAsync(null, [], "count", Ct)) deltas.Add(delta);
        });

        // Assert: the first deltas came, then an error instead of a silently short answer.
        Assert.NotNull(error);
        Assert.Equal(["one ", "two "], deltas);
    }

    [Fact]
    public async Task Should_SendChunksUsageAndDone_When_A_Raw_Client_Asks_To_Stream_With_Usage()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = _ => "Hi there";
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["model"] = "gpt-4o-mini", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }),
            ["stream"] = true, ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.ApiBase + "/chat/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", server.ApiKey);

        // Act
        using var response = await http.SendAsync(request, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        // Assert: data: events separated by blank lines; role first, content deltas, stop, usage with empty choices, [DONE].
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!.AsObject()).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("Hi there", string.Concat(chunks.Skip(1).SkipLast(2).Select(c => c["choices"]![0]!["delta"]!["content"]!.GetValue<string>())));
        Assert.All(chunks.SkipLast(2), c => Assert.Null(c["choices"]![0]!["finish_reason"]));
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(2, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.All(chunks.SkipLast(1), c => Assert.True(c.ContainsKey("usage") && c["usage"] is null));
    }

    [Fact]
    public async Task Should_Answer400_When_StreamOptions_Come_Without_Stream()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["model"] = "gpt-4o-mini", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }),
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.ApiBase + "/chat/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", server.ApiKey);

        using var response = await http.SendAsync(request, Ct);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("stream_options", error["param"]!.GetValue<string>());
        Assert.Contains("only allowed when 'stream' is enabled", error["message"]!.GetValue<string>());
    }
}
