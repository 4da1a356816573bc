using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Platform.Messaging.WebChat;

/// <summary>A connected chat client (one browser tab's socket).</summary>
public interface IWebChatClient
{
    /// <summary>Sends one JSON frame; sends are serialised by the client.</summary>
    Task SendAsync(string json, CancellationToken ct = default);

    /// <summary>Called after a reply was pushed to the conversation (stops the typing indicator).</summary>
    void OnReplyPushed();
}

/// <summary>
/// The chat sockets connected to this server process, by conversation key (<c>webchat:{channel}:{chat}</c>). A
/// conversation may have several (two tabs). Sockets on other server processes are not reached: their clients get the
/// reply from the replay when they reconnect.
/// </summary>
public sealed class WebChatConnections(ILogger<WebChatConnections> logger)
{
    private readonly ConcurrentDictionary<string, ImmutableList<IWebChatClient>> _clients = new(StringComparer.Ordinal);

    /// <summary>How many sockets the conversation has here.</summary>
    public int Count(string conversationKey) => _clients.TryGetValue(conversationKey, out var list) ? list.Count : 0;

    /// <summary>Adds a client; dispose the result to remove it.</summary>
    public IDisposable Register(string conversationKey, IWebChatClient client)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationKey);
        ArgumentNullException.ThrowIfNull(client);
        _clients.AddOrUpdate(conversationKey, _ => [client], (_, list) => list.Add(client));
        return new Registration(this, conversationKey, client);
    }

    /// <summary>Sends a frame to every socket of the conversation; returns how many got it.</summary>
    public async Task<int> PushAsync(string conversationKey, string json, bool isReply, CancellationToken ct = default)
    {
        if (!_clients.TryGetValue(conversationKey, out var list)) return 0;
        var sent = 0;
        foreach (var client in list)
        {
            try
            {
                await client.SendAsync(json, ct).ConfigureAwait(false);
                if (isReply) client.OnReplyPushed();
                sent++;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                // A socket that closed meanwhile; its session removes itself. The reply stays in the outbox for the replay.
                logger.LogDebug(e, "Pushing to a chat socket of {Conversation} failed.", conversationKey);
            }
        }
        return sent;
    }

    private void Remove(string conversationKey, IWebChatClient client)
    {
        while (_clients.TryGetValue(conversationKey, out var list))
        {
            var updated = list.Remove(client);
            if (updated.Count == 0
                ? _clients.TryRemove(new KeyValuePair<string, ImmutableList<IWebChatClient>>(conversationKey, list))
                : _clients.TryUpdate(conversationKey, updated, list))
                return;
        }
    }

    private sealed class Registration(WebChatConnections owner, string key, IWebChatClient client) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Remove(key, client);
        }
    }
}
