using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// API keys created at run time, under <c>/api/keys</c> (Admin only): create (the key is shown once), list (never the
/// secret), rotate (a new secret, shown once) and revoke. Changes apply at once on this node and within the configuration
/// refresh interval on the others. Keys configured under <c>Platform:ApiKeys</c> are not listed here.
/// </summary>
public static class KeysApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/keys";

    /// <summary>The longest key name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>POST /api/keys.</summary>
    /// <param name="Name">A name for people, logs and audit (1-100 characters).</param>
    /// <param name="Role">Viewer, Operator, Designer or Admin.</param>
    /// <param name="ExpiresAt">When the key stops working (in the future); none: never.</param>
    public sealed record CreateKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt);

    /// <summary>A new or rotated key: the key's fields and the secret, shown only in this answer.</summary>
    public sealed record KeyWithSecretResponse(string Id, string Name, string Role, string Prefix, DateTimeOffset CreatedAt, string? CreatedBy,
        DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RotatedAt, string Status, string Key);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Admin).WithTags("API keys");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapPost("/{id}/rotate", RotateAsync);
        group.MapDelete("/{id}", RevokeAsync);
        return app;
    }

    /// <summary>GET /api/keys: every run-time key, newest first, with its status and last use; never a secret.</summary>
    public static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListAsync(ApiKeyStore keys, CancellationToken ct) =>
        TypedResults.Ok(await keys.ListAsync(ct));

    /// <summary>POST /api/keys: 201 with the key (shown once), 400 on bad input.</summary>
    public static async Task<Results<Created<KeyWithSecretResponse>, ProblemHttpResult>> CreateAsync(CreateKeyRequest request, ApiKeyStore keys,
        TimeProvider clock, ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
            return Problems.BadRequest("The key needs a name.", $"Send \"name\": 1-{MaxNameLength} printable characters that say who or what uses the key, e.g. \"backup job\".");
        if (ApiKeyRoles.Parse(request.Role) is not { } role)
            return Problems.BadRequest(string.IsNullOrWhiteSpace(request.Role) ? "The key needs a role." : $"'{request.Role}' is not a role.",
                $"Send \"role\": one of {string.Join(", ", ApiKeyRoles.All)} (each may do what the ones before it may; docs/security.md).");
        if (request.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
            return Problems.BadRequest("expiresAt is in the past.", "Send a future time such as \"2030-01-01T00:00:00Z\", or leave expiresAt out for a key that does not expire.");
        var (info, key) = await keys.CreateAsync(name, role, request.ExpiresAt, user.Identity?.Name, ct);
        return TypedResults.Created($"{Prefix}/{info.Id}", WithSecret(info, key));
    }

    /// <summary>POST /api/keys/{id}/rotate: 200 with the new key (shown once); the old secret stops working. 404, or 409 for a revoked key.</summary>
    public static async Task<Results<Ok<KeyWithSecretResponse>, ProblemHttpResult>> RotateAsync(string id, ApiKeyStore keys, ClaimsPrincipal user,
        CancellationToken ct)
    {
        try
        {
            return await keys.RotateAsync(id, user.Identity?.Name, ct) is { } rotated ? TypedResults.Ok(WithSecret(rotated.Info, rotated.Key)) : NotFound(id);
        }
        catch (InvalidOperationException e)
        {
            return Problems.Conflict(e.Message, $"Create a new key with POST {Prefix} instead.");
        }
    }

    /// <summary>DELETE /api/keys/{id}: revokes the key (204; also when it was revoked before), 404 when unknown.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, ApiKeyStore keys, ClaimsPrincipal user, CancellationToken ct) =>
        await keys.RevokeAsync(id, user.Identity?.Name, ct) is null ? NotFound(id) : TypedResults.NoContent();

    private static KeyWithSecretResponse WithSecret(ApiKeyInfo i, string key) =>
        new(i.Id, i.Name, i.Role, i.Prefix, i.CreatedAt, i.CreatedBy, i.ExpiresAt, i.LastUsedAt, i.RotatedAt, i.Status, key);

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"There is no API key with the id '{id}'.", $"GET {Prefix} lists the keys created at run time; configured keys (Platform:ApiKeys) are changed in configuration.");
}
