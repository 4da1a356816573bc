using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// <c>GET /api/audit</c>: the audit trail, newest first, with filters and paging (Admin only). The trail is append-only: there is
/// no route to change or delete entries; only the retention job (<c>Platform:Audit:RetentionDays</c>) deletes them.
/// </summary>
public static class AuditApi
{
    /// <summary>The route.</summary>
    public const string Route = "/api/audit";

    /// <summary>The largest page.</summary>
    public const int MaxPageSize = 500;

    /// <summary>One page of the trail.</summary>
    /// <param name="Items">The entries, newest first.</param>
    /// <param name="Continuation">Pass as <c>continuation</c> for the next (older) page; null on the last page.</param>
    public sealed record AuditPageResponse(IReadOnlyList<AuditEntry> Items, string? Continuation);

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet(Route, ListAsync).RequireAuthorization(ApiPolicies.Admin).WithTags("Audit"); // Admin only
        return app;
    }

    /// <summary>
    /// GET /api/audit?from=&amp;to=&amp;actor=&amp;action=&amp;targetType=&amp;targetId=&amp;outcome=&amp;pageSize=50&amp;continuation=: entries newest
    /// first. <c>from</c>/<c>to</c> are ISO 8601 times (<c>to</c> is exclusive); <c>action</c> matches a part of the action; the other
    /// filters match exactly. 400 with the fix for a bad filter.
    /// </summary>
    public static async Task<Results<Ok<AuditPageResponse>, ProblemHttpResult>> ListAsync(IAuditLogStore store, CancellationToken ct,
        string? from = null, string? to = null, string? actor = null, string? action = null, string? targetType = null, string? targetId = null,
        string? outcome = null, int? pageSize = null, string? continuation = null)
    {
        if (!TryTime(from, out var fromTime)) return Problems.BadRequest($"from '{from}' is not a time.", "Use ISO 8601, e.g. from=2026-01-31T00:00:00Z.");
        if (!TryTime(to, out var toTime)) return Problems.BadRequest($"to '{to}' is not a time.", "Use ISO 8601, e.g. to=2026-02-01T00:00:00Z.");
        var size = pageSize ?? 50;
        if (size is < 1 or > MaxPageSize) return Problems.BadRequest("pageSize is out of range.", $"Use pageSize=1 to pageSize={MaxPageSize} (default 50).");
        long? before = null;
        if (!string.IsNullOrWhiteSpace(continuation))
        {
            if (!long.TryParse(continuation, NumberStyles.None, CultureInfo.InvariantCulture, out var b) || b <= 0)
                return Problems.BadRequest("continuation is not valid.", "Pass the continuation of the previous page exactly as it was answered, or leave it out for the newest entries.");
            before = b;
        }
        var normalizedOutcome = string.IsNullOrWhiteSpace(outcome) ? null : outcome.Trim().ToLowerInvariant();
        if (normalizedOutcome is not (null or AuditOutcomes.Success or AuditOutcomes.Denied or AuditOutcomes.Failed))
            return Problems.BadRequest($"outcome '{outcome}' is not known.", "Use outcome=success, denied or failed.");
        var items = await store.QueryAsync(new AuditQuery
        {
            From = fromTime, To = toTime, Actor = Blank(actor), Action = Blank(action), TargetType = Blank(targetType), TargetId = Blank(targetId),
            Outcome = normalizedOutcome, Before = before, Take = size + 1,
        }, ct);
        var page = items.Take(size).ToList();
        var next = items.Count > size ? page[^1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new AuditPageResponse(page, next));
    }

    private static bool TryTime(string? text, out DateTimeOffset? time)
    {
        time = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return false;
        time = t;
        return true;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
