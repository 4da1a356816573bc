using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// API keys created at run time, under <c>/api/keys</c>: create (the key is shown once), list (never the secret), rotate (a new
/// secret, shown once) and revoke. Every key belongs to a user or a service account. A signed-in user sees, creates, rotates and
/// revokes their own keys; an Admin sees and manages all of them and creates keys for service accounts and other users. A key never
/// carries a higher role than the principal that creates it. Changes apply at once on this node and within the configuration refresh
/// interval on the others. Keys configured under <c>Platform:ApiKeys</c> are not listed here.
/// </summary>
public static class KeysApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/keys";

    /// <summary>The longest key name.</summary>
    public const int MaxNameLength = 100;

    /// <summary>POST /api/keys.</summary>
    /// <param name="Name">A name for people, logs and audit (1-100 characters).</param>
    /// <param name="Role">Viewer, Operator, Designer or Admin (at most the creator's role).</param>
    /// <param name="ExpiresAt">When the key stops working (in the future); none: never.</param>
    /// <param name="Owner">Who the key belongs to. Default: the signed-in user when created from a sign-in session, else a service
    /// account named like the key. Only an Admin names another owner.</param>
    /// <param name="OwnerKind"><c>user</c> (an existing user account) or <c>service</c> (default when <paramref name="Owner"/> is given).</param>
    public sealed record CreateKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt, string? Owner = null, string? OwnerKind = null);

    /// <summary>A new or rotated key: the key's fields and the secret, shown only in this answer.</summary>
    public sealed record KeyWithSecretResponse(string Id, string Name, string Role, string Prefix, DateTimeOffset CreatedAt, string? CreatedBy,
        DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RotatedAt, string Status, string Key, string? Owner, string? OwnerKind);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("API keys");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapPost("/{id}/rotate", RotateAsync);
        group.MapDelete("/{id}", RevokeAsync);
        return app;
    }

    /// <summary>GET /api/keys: the run-time keys the caller may see (an Admin: all; a signed-in user: their own), newest first, with
    /// owner, role, status, expiry and last use; never a secret.</summary>
    public static async Task<Ok<IReadOnlyList<ApiKeyInfo>>> ListAsync(ApiKeyStore keys, ClaimsPrincipal user, CancellationToken ct)
    {
        var all = await keys.ListAsync(ct);
        if (IsAdmin(user)) return TypedResults.Ok(all);
        var self = Self(user);
        return TypedResults.Ok<IReadOnlyList<ApiKeyInfo>>(self is null ? [] : all.Where(k => self.Owns(k.OwnerKind, k.Owner)).ToList());
    }

    /// <summary>POST /api/keys: 201 with the key (shown once); 400 on bad input, 403 for a role above the creator's or another owner.</summary>
    public static async Task<Results<Created<KeyWithSecretResponse>, ProblemHttpResult>> CreateAsync(CreateKeyRequest request, ApiKeyStore keys,
        TimeProvider clock, ClaimsPrincipal user, HttpContext context, CancellationToken ct)
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
        var ownerName = request.Owner?.Trim();
        var ownerKind = string.IsNullOrWhiteSpace(request.OwnerKind) ? null : request.OwnerKind.Trim().ToLowerInvariant();
        if (ownerKind is not (null or ApiKeyOwner.User or ApiKeyOwner.Service))
            return Problems.BadRequest($"'{request.OwnerKind}' is not an owner kind.", $"Send \"ownerKind\": \"{ApiKeyOwner.User}\" (a user account) or \"{ApiKeyOwner.Service}\" (a service account).");
        if (ownerName is not null && (ownerName.Length is 0 or > MaxNameLength || ownerName.Any(char.IsControl)))
            return Problems.BadRequest("The owner's name is not valid.", $"Send \"owner\": 1-{MaxNameLength} printable characters (a user name, or a service account's name), or leave it out.");

        // A key never carries more than its creator may do.
        var creatorRole = user.FindAll(ClaimTypes.Role).Select(c => c.Value).OrderByDescending(Rank).FirstOrDefault();
        if (Rank(role) > Rank(creatorRole))
            return Forbidden($"A key cannot carry a higher role than its creator: you are {creatorRole ?? "no role"}, the key asks for {role}.",
                $"Choose {creatorRole ?? "a lower role"} or a lower role, or ask an Admin to create the key.");

        var self = Self(user);
        ApiKeyOwner owner;
        if (ownerName is null && ownerKind is not ApiKeyOwner.Service)
        {
            if (self is null && !IsAdmin(user))
                return Forbidden("Only signed-in users create keys for themselves.",
                    "Sign in at /signin and create the key on the Keys page; keys for service accounts are created by an Admin.");
            owner = self ?? new ApiKeyOwner(ApiKeyOwner.Service, name); // an Admin key or certificate: a service account named like the key
        }
        else
        {
            owner = new ApiKeyOwner(ownerKind ?? ApiKeyOwner.Service, ownerName ?? name);
            if (!IsAdmin(user) && (self is null || !self.Owns(owner.Kind, owner.Name)))
                return Forbidden("Only an Admin creates keys for others.", "Leave \"owner\" out to create a key for yourself.");
            if (owner.Kind == ApiKeyOwner.User && !(self?.Owns(owner.Kind, owner.Name) ?? false))
            {
                var accounts = context.RequestServices.GetRequiredService<SignInAccounts>();
                var account = await accounts.Users.FindByNameAsync(owner.Name);
                if (account is null)
                    return Problems.BadRequest($"There is no user '{owner.Name}'.",
                        $"Name an existing user (GET /api/users), or send \"ownerKind\": \"{ApiKeyOwner.Service}\" for a service account.");
                if (account.Disabled)
                    return Problems.BadRequest($"The user '{owner.Name}' is disabled.", "Enable the user first, or create the key for a service account.");
                var ownerRole = await accounts.RoleOfAsync(account);
                if (Rank(role) > Rank(ownerRole))
                    return Problems.BadRequest($"The user '{owner.Name}' has the role {ownerRole ?? "none"}; the key cannot carry {role}.",
                        $"Choose {ownerRole ?? "a lower role"} or a lower role, or change the user's role first.");
                owner = new ApiKeyOwner(ApiKeyOwner.User, account.UserName!);
            }
        }
        var (info, key) = await keys.CreateAsync(name, role, request.ExpiresAt, user.Identity?.Name, owner, ct);
        AuditMiddleware.AddDetail(context, "key", info.Name);
        AuditMiddleware.AddDetail(context, "owner", owner.ToString());
        return TypedResults.Created($"{Prefix}/{info.Id}", WithSecret(info, key));
    }

    /// <summary>POST /api/keys/{id}/rotate: 200 with the new key (shown once); the old secret stops working. 404 (also for another
    /// user's key), or 409 for a revoked key.</summary>
    public static async Task<Results<Ok<KeyWithSecretResponse>, ProblemHttpResult>> RotateAsync(string id, ApiKeyStore keys, ClaimsPrincipal user,
        HttpContext context, CancellationToken ct)
    {
        if (await MayManageAsync(id, keys, user, context, ct) is { } refused) return refused;
        try
        {
            return await keys.RotateAsync(id, user.Identity?.Name, ct) is { } rotated ? TypedResults.Ok(WithSecret(rotated.Info, rotated.Key)) : NotFound(id);
        }
        catch (InvalidOperationException e)
        {
            return Problems.Conflict(e.Message, $"Create a new key with POST {Prefix} instead.");
        }
    }

    /// <summary>DELETE /api/keys/{id}: revokes the key (204; also when it was revoked before), 404 when unknown (or another user's).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, ApiKeyStore keys, ClaimsPrincipal user, HttpContext context,
        CancellationToken ct)
    {
        if (await MayManageAsync(id, keys, user, context, ct) is { } refused) return refused;
        return await keys.RevokeAsync(id, user.Identity?.Name, ct) is null ? NotFound(id) : TypedResults.NoContent();
    }

    /// <summary>The owner a principal stands for: a user signed in with a password or single sign-on; null for keys and certificates.</summary>
    public static ApiKeyOwner? Self(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var method = user.FindFirstValue(SignInClaims.Method);
        return user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } && method is SignInClaims.Password or SignInClaims.Sso
            ? new ApiKeyOwner(ApiKeyOwner.User, name) : null;
    }

    private static bool IsAdmin(ClaimsPrincipal user) => user.IsInRole(ApiKeyRoles.Admin);

    private static int Rank(string? role) => role is null ? -1 : ApiKeyRoles.All.ToList().IndexOf(role);

    private static async Task<ProblemHttpResult?> MayManageAsync(string id, ApiKeyStore keys, ClaimsPrincipal user, HttpContext context, CancellationToken ct)
    {
        var key = await keys.FindAsync(id, ct);
        if (key is null) return NotFound(id);
        AuditMiddleware.AddDetail(context, "key", key.Name);
        if (key.Owner is not null) AuditMiddleware.AddDetail(context, "owner", $"{key.OwnerKind} {key.Owner}");
        if (IsAdmin(user) || Self(user) is { } self && self.Owns(key.OwnerKind, key.Owner)) return null;
        return NotFound(id); // another user's key: not even its existence is told
    }

    private static KeyWithSecretResponse WithSecret(ApiKeyInfo i, string key) =>
        new(i.Id, i.Name, i.Role, i.Prefix, i.CreatedAt, i.CreatedBy, i.ExpiresAt, i.LastUsedAt, i.RotatedAt, i.Status, key, i.Owner, i.OwnerKind);

    private static ProblemHttpResult Forbidden(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: title, detail: detail);

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"There is no API key with the id '{id}' that you may manage.",
            $"GET {Prefix} lists the keys you may manage (an Admin sees all); configured keys (Platform:ApiKeys) are changed in configuration.");
}
