using System.Text.Json.Nodes;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Server.Apis;

/// <summary>
/// Refuses to publish a second workflow that catches every message of the same channel scope. Every published workflow
/// whose Message Received accepts a message runs (in order of definition id), so two catch-alls would both answer.
/// </summary>
public static class CatchAllMessageCheck
{
    private const string MessageReceivedType = "Platform.MessageReceived";

    /// <summary>The rule, as written in the problem and in docs/channels.md.</summary>
    public const string Rule =
        "Every published workflow whose Message Received accepts a message runs (a waiting Wait For Message takes it first), " +
        "so two workflows that catch every message on the same channel both answer it.";

    /// <summary>
    /// A 409 problem when <paramref name="root"/> (the flowchart about to be published as <paramref name="definitionId"/>) has a
    /// Message Received without a text pattern and another published workflow already has one for the same channel scope (the
    /// same channel, or both on every channel); else null.
    /// </summary>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult?> FindConflictAsync(
        JsonObject? root, string? definitionId, ITriggerStore triggers, IWorkflowRuntime runtime, IWorkflowDefinitionService definitions,
        ILogger logger, CancellationToken ct)
    {
        var scopes = CatchAllScopes(root).ToList();
        if (scopes.Count == 0) return null;
        // A text no pattern in practice matches: a trigger that accepts it catches every message.
        var probe = "catch-all probe " + Guid.NewGuid().ToString("N");
        var input = new Dictionary<string, object?> { ["text"] = probe, [MessagingNames.MessageInputKey] = new Dictionary<string, object?> { ["text"] = probe } };
        foreach (var trigger in await triggers.FindByNameAsync(MessagingNames.MessageReceived, ct))
        {
            if (string.Equals(trigger.DefinitionId, definitionId, StringComparison.Ordinal)) continue;
            var key = string.IsNullOrEmpty(trigger.Key) ? MessagingNames.AnyChannel : trigger.Key;
            var overlaps = scopes.Where(s => s == key || s == MessagingNames.AnyChannel || key == MessagingNames.AnyChannel).ToList();
            if (overlaps.Count == 0 || !await runtime.TriggerAcceptsAsync(trigger, input, ct)) continue;
            var other = await definitions.GetAsync(trigger.DefinitionId, VersionOptions.Published, ct);
            var otherName = other?.Name is { Length: > 0 } n ? $"'{n}' ({trigger.DefinitionId})" : $"'{trigger.DefinitionId}'";
            if (!overlaps.Contains(key))
            {
                // Every channel vs one channel: both answer that channel's messages, but each also has a purpose of its own.
                logger.LogWarning("Published workflow {DefinitionId} catches every message on {Scope}, as {Other} does on {OtherScope}; both answer. {Rule}",
                    definitionId, string.Join(", ", overlaps.Select(Describe)), otherName, Describe(key), Rule);
                continue;
            }
            return Problems.Conflict("Another published workflow already answers every message on this channel.",
                $"This workflow's Message Received has no Text pattern on {Describe(key)}, and the published workflow {otherName} " +
                $"already catches every message there. {Rule} Give this Message Received a Text pattern (a regular expression, " +
                "e.g. ^(order|status)\\b) or another Channel, or retract (unpublish) the other workflow first.");
        }
        return null;
    }

    private static string Describe(string scope) => scope == MessagingNames.AnyChannel ? "every channel" : $"channel '{scope}'";

    /// <summary>The channel keys of the flowchart's Message Received activities that have no text pattern.</summary>
    private static IEnumerable<string> CatchAllScopes(JsonObject? root)
    {
        if (root?["activities"] is not JsonArray activities) yield break;
        foreach (var a in activities.OfType<JsonObject>())
        {
            if (a["type"]?.GetValueKind() != System.Text.Json.JsonValueKind.String || a["type"]!.GetValue<string>() != MessageReceivedType) continue;
            if (!TryLiteral(a["textPattern"], out var pattern) || !string.IsNullOrWhiteSpace(pattern)) continue;
            if (!TryLiteral(a["channel"], out var channel)) continue;
            yield return string.IsNullOrWhiteSpace(channel) ? MessagingNames.AnyChannel : channel.Trim();
        }
    }

    /// <summary>A literal input's text (missing or empty counts as empty); false for expressions, whose value is not known now.</summary>
    private static bool TryLiteral(JsonNode? input, out string value)
    {
        value = "";
        if (input?["expression"] is not JsonObject e) return true;
        var type = e["type"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? e["type"]!.GetValue<string>() : "Literal";
        if (type != "Literal") return e["value"] is null || e["value"]!.ToString().Length == 0;
        value = e["value"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? e["value"]!.GetValue<string>() : e["value"]?.ToJsonString() ?? "";
        return true;
    }
}
