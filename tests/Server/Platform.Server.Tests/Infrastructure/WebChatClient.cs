using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>A web chat socket (<c>/ws/chat?channel=…</c>): sends a message and returns the reply frame or its text.</summary>
internal sealed class WebChatClient(WebSocket socket) : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private int _id;

    /// <summary>Connects to the web chat channel <paramref name="channel"/> and waits for its welcome frame.</summary>
    public static async Task<WebChatClient> ConnectAsync(PlatformServerFactory factory, string channel)
    {
        var socket = await factory.Server.CreateWebSocketClient().ConnectAsync(new Uri(factory.Server.BaseAddress, $"/ws/chat?channel={channel}"), Ct);
        var client = new WebChatClient(socket);
        await client.NextAsync("welcome", _ => true);
        return client;
    }

    /// <summary>Sends <paramref name="text"/> and returns the text of the first reply that <paramref name="accept"/> takes (any reply when null).</summary>
    public async Task<string> AskAsync(string text, Func<string, bool>? accept = null) =>
        (await AskForFrameAsync(text, accept))["text"]!.GetValue<string>();

    /// <summary>Sends <paramref name="text"/> and returns the first reply frame (with <c>text</c> and <c>quickReplies</c>) that <paramref name="accept"/> takes.</summary>
    public async Task<JsonObject> AskForFrameAsync(string text, Func<string, bool>? accept = null)
    {
        var frame = new JsonObject { ["type"] = "message", ["id"] = $"m{Interlocked.Increment(ref _id)}", ["text"] = text };
        await socket.SendAsync(Encoding.UTF8.GetBytes(frame.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, Ct);
        return await NextAsync("message", f => accept is null || accept(f["text"]!.GetValue<string>()));
    }

    /// <summary>The text of the next reply (e.g. the second answer to a message with two requests).</summary>
    public async Task<string> NextReplyAsync() => (await NextAsync("message", _ => true))["text"]!.GetValue<string>();

    private async Task<JsonObject> NextAsync(string type, Func<JsonObject, bool> accept)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        var seen = new List<string>();
        while (true)
        {
            using var text = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                try { result = await socket.ReceiveAsync(buffer, timeout.Token); }
                catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"No '{type}' frame within 30 s; seen: {string.Join(" | ", seen)}{Environment.NewLine}{ServerErrorLog.Latest()}");
                }
                if (result.MessageType == WebSocketMessageType.Close) Assert.Fail("The server closed the chat socket.");
                text.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var json = Encoding.UTF8.GetString(text.ToArray());
            var frame = JsonNode.Parse(json)!.AsObject();
            if (frame["type"]?.GetValue<string>() == type && accept(frame)) return frame;
            seen.Add(json);
        }
    }

    public ValueTask DisposeAsync() => CloseQuietlyAsync(socket);

    /// <summary>Closes <paramref name="socket"/> normally if it is still open (at most 5 s), ignoring a peer that is gone, and disposes it.</summary>
    public static async ValueTask CloseQuietlyAsync(WebSocket socket)
    {
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidOperationException) { }
        socket.Dispose();
    }
}
