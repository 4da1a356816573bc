using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Activities;

namespace Platform.Engine.Expressions;

/// <summary>
/// The earlier turns of the running workflow's conversation for expressions (<c>getConversationHistory(n)</c> in
/// JavaScript, <c>conversation.history</c> in Liquid). Read from the optional <see cref="IConversationMemory"/> only when
/// an expression uses it, once per execution burst (the turns cannot change while a burst runs: its replies are committed
/// with the instance at its end).
/// </summary>
public static class ConversationHistory
{
    /// <summary>How many turns <c>getConversationHistory()</c> returns without an argument, and how many <c>conversation.history</c> holds.</summary>
    public const int DefaultCount = 10;

    /// <summary>The most turns an expression can read.</summary>
    public const int MaxCount = 50;

    /// <summary>
    /// Up to <see cref="MaxCount"/> earlier turns, oldest first, without the message being handled now. Empty when the
    /// workflow has no conversation or the host has no memory; a memory that fails is logged and read as empty.
    /// </summary>
    public static ValueTask<IReadOnlyList<ConversationTurn>> LoadAsync(ExpressionContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = ConversationMemory.ConversationKeyOf(context.Properties);
        if (key is null || context.Services?.GetService<IConversationMemory>() is not { } memory)
            return ValueTask.FromResult<IReadOnlyList<ConversationTurn>>([]);
        var current = ConversationMemory.LastMessageIdOf(context.Properties);
        if (context.ConversationHistoryCache is { } cached && cached.Key == key && cached.Current == current)
            return ValueTask.FromResult(cached.Turns);
        return new ValueTask<IReadOnlyList<ConversationTurn>>(LoadCoreAsync(context, memory, key, current, ct));
    }

    /// <summary>The last <paramref name="count"/> (clamped to 0…<see cref="MaxCount"/>) of <paramref name="turns"/> as plain values.</summary>
    public static List<object?> ToValues(IReadOnlyList<ConversationTurn> turns, int count)
    {
        ArgumentNullException.ThrowIfNull(turns);
        return turns.TakeLast(Math.Clamp(count, 0, MaxCount)).Select(t => (object?)ConversationMemory.ToValue(t)).ToList();
    }

    private static async Task<IReadOnlyList<ConversationTurn>> LoadCoreAsync(ExpressionContext context, IConversationMemory memory, string key, string? current, CancellationToken ct)
    {
        var logger = context.Services?.GetService<ILoggerFactory>()?.CreateLogger(typeof(ConversationHistory).FullName!);
        var turns = await ConversationMemory.TryGetHistoryAsync(memory, key, current, MaxCount, logger, "Expressions", ct).ConfigureAwait(false);
        if (turns is null) return []; // not cached: a later expression of the burst tries again
        context.ConversationHistoryCache = (key, current, turns);
        return turns;
    }
}
