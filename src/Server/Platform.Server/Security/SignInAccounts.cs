using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Platform.Identity;

namespace Platform.Server.Security;

/// <summary>Local user accounts: one role each (<see cref="PlatformRoles"/>), created and changed by Admins.</summary>
public sealed class SignInAccounts(UserManager<PlatformUser> users, RoleManager<IdentityRole> roles, TimeProvider? time = null)
{
    /// <summary>The user manager (passwords, lockout).</summary>
    public UserManager<PlatformUser> Users => users;

    /// <summary>Creates a user with a role; returns the user or the reasons it was refused (password rules, name taken).</summary>
    public async Task<(PlatformUser? User, IReadOnlyList<string> Errors)> CreateAsync(string userName, string password, string role)
    {
        await EnsureRoleAsync(role);
        var user = new PlatformUser { UserName = userName.Trim(), CreatedAt = (time ?? TimeProvider.System).GetUtcNow() };
        var created = await users.CreateAsync(user, password);
        if (!created.Succeeded) return (null, Describe(created));
        var added = await users.AddToRoleAsync(user, role);
        if (!added.Succeeded)
        {
            await users.DeleteAsync(user);
            return (null, Describe(added));
        }
        return (user, []);
    }

    /// <summary>The user's role (the first, there is one), or null.</summary>
    public async Task<string?> RoleOfAsync(PlatformUser user) => (await users.GetRolesAsync(user)).FirstOrDefault();

    /// <summary>Replaces the user's role (and ends its sessions).</summary>
    public async Task<IReadOnlyList<string>> SetRoleAsync(PlatformUser user, string role)
    {
        await EnsureRoleAsync(role);
        var current = await users.GetRolesAsync(user);
        if (current.Count > 0)
        {
            var removed = await users.RemoveFromRolesAsync(user, current);
            if (!removed.Succeeded) return Describe(removed);
        }
        var added = await users.AddToRoleAsync(user, role);
        if (!added.Succeeded) return Describe(added);
        await users.UpdateSecurityStampAsync(user);
        return [];
    }

    /// <summary>How many enabled users have the Admin role.</summary>
    public async Task<int> EnabledAdminCountAsync() =>
        (await users.GetUsersInRoleAsync(PlatformRoles.Admin)).Count(u => !u.Disabled);

    /// <summary>Every user, by name.</summary>
    public Task<List<PlatformUser>> ListAsync(CancellationToken ct) => users.Users.OrderBy(u => u.UserName).ToListAsync(ct);

    internal static IReadOnlyList<string> Describe(IdentityResult result) => result.Errors.Select(e => e.Description).ToList();

    private async Task EnsureRoleAsync(string role)
    {
        if (await roles.RoleExistsAsync(role)) return;
        var result = await roles.CreateAsync(new IdentityRole(role));
        if (!result.Succeeded && !await roles.RoleExistsAsync(role))
            throw new InvalidOperationException($"Could not create the role {role}: {string.Join(" ", Describe(result))}");
    }
}
