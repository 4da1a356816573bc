using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Identity;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// User accounts under <c>/api/users</c> (Admins only): list, create with a role, change the role, reset the password,
/// disable or enable, delete. The last enabled Admin can be neither demoted, disabled nor deleted.
/// </summary>
public static class UsersApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/users";

    /// <summary>A user as answered.</summary>
    /// <param name="Id">The account's id.</param>
    /// <param name="UserName">The name it signs in with.</param>
    /// <param name="Role">Admin, Designer, Operator or Viewer.</param>
    /// <param name="Disabled">A disabled account cannot sign in.</param>
    /// <param name="LockedOutUntil">Set while the account is locked after failed sign-ins.</param>
    /// <param name="CreatedAt">When it was created.</param>
    public sealed record UserResponse(string Id, string UserName, string? Role, bool Disabled, DateTimeOffset? LockedOutUntil, DateTimeOffset CreatedAt);

    /// <summary>Creates a user.</summary>
    public sealed record CreateUserBody(string? UserName, string? Password, string? Role);

    /// <summary>Changes a user's role.</summary>
    public sealed record RoleBody(string? Role);

    /// <summary>Sets a new password (and unlocks the account).</summary>
    public sealed record PasswordBody(string? Password);

    /// <summary>Disables or enables an account.</summary>
    public sealed record DisabledBody(bool? Disabled);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Admin).WithTags("Users");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync);
        group.MapPut("/{id}/role", SetRoleAsync);
        group.MapPut("/{id}/password", SetPasswordAsync);
        group.MapPut("/{id}/disabled", SetDisabledAsync);
        group.MapDelete("/{id}", DeleteAsync);
        return app;
    }

    private static async Task<Ok<List<UserResponse>>> ListAsync(SignInAccounts accounts, CancellationToken ct)
    {
        var result = new List<UserResponse>();
        foreach (var user in await accounts.ListAsync(ct)) result.Add(await DescribeAsync(accounts, user));
        return TypedResults.Ok(result);
    }

    private static async Task<Results<Created<UserResponse>, ProblemHttpResult>> CreateAsync(CreateUserBody? body, SignInAccounts accounts, HttpContext context, ILoggerFactory loggers)
    {
        if (string.IsNullOrWhiteSpace(body?.UserName) || string.IsNullOrEmpty(body.Password))
            return Problems.BadRequest("userName and password are required.", "Send {\"userName\": \"...\", \"password\": \"...\", \"role\": \"Viewer\"}.");
        var role = ParseRole(body.Role ?? PlatformRoles.Viewer, out var problem);
        if (role is null) return problem!;
        if (await accounts.Users.FindByNameAsync(body.UserName.Trim()) is not null)
            return Problems.Conflict($"The user '{body.UserName.Trim()}' exists already.", "Choose another user name, or change that user's role.");
        var (user, errors) = await accounts.CreateAsync(body.UserName, body.Password, role);
        if (user is null) return Problems.BadRequest("The user could not be created.", string.Join(" ", errors));
        Log(loggers, context, "created", user.UserName!, role);
        return TypedResults.Created($"{Prefix}/{user.Id}", await DescribeAsync(accounts, user));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetRoleAsync(string id, RoleBody? body, SignInAccounts accounts, HttpContext context, ILoggerFactory loggers)
    {
        var user = await accounts.Users.FindByIdAsync(id);
        if (user is null) return NotFound(id);
        var role = ParseRole(body?.Role, out var problem);
        if (role is null) return problem!;
        if (role != PlatformRoles.Admin && await IsLastAdminAsync(accounts, user))
            return LastAdmin("demote");
        var errors = await accounts.SetRoleAsync(user, role);
        if (errors.Count > 0) return Problems.BadRequest("The role could not be changed.", string.Join(" ", errors));
        Log(loggers, context, "changed the role of", user.UserName!, role);
        await RevokeKeysAsync(context, user.UserName!, role); // keys above the new role stop working
        return TypedResults.Ok(await DescribeAsync(accounts, user));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetPasswordAsync(string id, PasswordBody? body, SignInAccounts accounts, HttpContext context, ILoggerFactory loggers)
    {
        var user = await accounts.Users.FindByIdAsync(id);
        if (user is null) return NotFound(id);
        if (string.IsNullOrEmpty(body?.Password)) return Problems.BadRequest("password is required.", "Send {\"password\": \"...\"} (at least 10 characters).");
        var users = accounts.Users;
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var reset = await users.ResetPasswordAsync(user, token, body.Password);
        if (!reset.Succeeded) return Problems.BadRequest("The password was not accepted.", string.Join(" ", SignInAccounts.Describe(reset)));
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        Log(loggers, context, "reset the password of", user.UserName!, null);
        return TypedResults.Ok(await DescribeAsync(accounts, user));
    }

    private static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetDisabledAsync(string id, DisabledBody? body, SignInAccounts accounts, HttpContext context, ILoggerFactory loggers)
    {
        var user = await accounts.Users.FindByIdAsync(id);
        if (user is null) return NotFound(id);
        if (body?.Disabled is not { } disabled) return Problems.BadRequest("disabled is required.", "Send {\"disabled\": true} or {\"disabled\": false}.");
        if (disabled && await IsLastAdminAsync(accounts, user)) return LastAdmin("disable");
        user.Disabled = disabled;
        var updated = await accounts.Users.UpdateAsync(user);
        if (!updated.Succeeded) return Problems.BadRequest("The user could not be changed.", string.Join(" ", SignInAccounts.Describe(updated)));
        await accounts.Users.UpdateSecurityStampAsync(user);
        Log(loggers, context, disabled ? "disabled" : "enabled", user.UserName!, null);
        if (disabled) await RevokeKeysAsync(context, user.UserName!, null);
        return TypedResults.Ok(await DescribeAsync(accounts, user));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, SignInAccounts accounts, HttpContext context, ILoggerFactory loggers)
    {
        var user = await accounts.Users.FindByIdAsync(id);
        if (user is null) return NotFound(id);
        if (await IsLastAdminAsync(accounts, user)) return LastAdmin("delete");
        var deleted = await accounts.Users.DeleteAsync(user);
        if (!deleted.Succeeded) return Problems.BadRequest("The user could not be deleted.", string.Join(" ", SignInAccounts.Describe(deleted)));
        Log(loggers, context, "deleted", user.UserName!, null);
        await RevokeKeysAsync(context, user.UserName!, null);
        return TypedResults.NoContent();
    }

    /// <summary>Revokes the user's API keys (all, or those above <paramref name="aboveRole"/>) at once and notes them in the audit entry.</summary>
    private static async Task RevokeKeysAsync(HttpContext context, string userName, string? aboveRole)
    {
        var keys = context.RequestServices.GetRequiredService<ApiKeyStore>();
        var revoked = await keys.RevokeOwnedAsync(new ApiKeyOwner(ApiKeyOwner.User, userName), context.User.Identity?.Name, aboveRole, context.RequestAborted);
        if (revoked.Count > 0) AuditMiddleware.AddDetail(context, "revokedKeys", revoked.Select(k => k.Name).ToList());
    }

    private static async Task<UserResponse> DescribeAsync(SignInAccounts accounts, PlatformUser user)
    {
        var lockout = user.LockoutEnd is { } end && end > DateTimeOffset.UtcNow ? end : (DateTimeOffset?)null;
        return new UserResponse(user.Id, user.UserName ?? "", await accounts.RoleOfAsync(user), user.Disabled, lockout, user.CreatedAt);
    }

    private static async Task<bool> IsLastAdminAsync(SignInAccounts accounts, PlatformUser user) =>
        !user.Disabled && await accounts.RoleOfAsync(user) == PlatformRoles.Admin && await accounts.EnabledAdminCountAsync() <= 1;

    private static string? ParseRole(string? text, out ProblemHttpResult? problem)
    {
        var role = PlatformRoles.Parse(text);
        problem = role is null
            ? Problems.BadRequest($"'{text}' is not a role.", $"Use one of {string.Join(", ", PlatformRoles.All)}.")
            : null;
        return role;
    }

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"User '{id}' was not found.", $"GET {Prefix} lists the users and their ids.");

    private static ProblemHttpResult LastAdmin(string what) => Problems.Conflict($"Cannot {what} the last enabled Admin.",
        "Give another user the Admin role first, so that someone can still manage users.");

    // The audit trail belongs here (the audit helper's IAuditTrail): actor, action, target user.
    private static void Log(ILoggerFactory loggers, HttpContext context, string action, string target, string? role) =>
        loggers.CreateLogger(typeof(UsersApi)).LogInformation("{Actor} {Action} user {Target} (role {Role})", context.User.Identity?.Name ?? "unknown",
            action, target, role ?? "unchanged");
}
