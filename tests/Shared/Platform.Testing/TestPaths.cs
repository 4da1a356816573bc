namespace Platform.Testing;

/// <summary>
/// Finds the repository and the shared folder from a test's base directory. The layout is <c>…/main</c> (this repository)
/// with <c>…/shared</c> beside it, both locally and in CI (a fresh clone with <c>../shared</c> next to it).
/// </summary>
public static class TestPaths
{
    /// <summary>Environment variable that overrides where the shared folder is.</summary>
    public const string SharedDirectoryVariable = "PLATFORM_SHARED_DIR";

    private static readonly Lazy<string> Repo = new(() => FindUpwards(d => File.Exists(Path.Combine(d.FullName, "Platform.sln")))
        ?? throw new DirectoryNotFoundException($"No folder with Platform.sln above {AppContext.BaseDirectory}."));

    private static readonly Lazy<string> Shared = new(FindShared);

    /// <summary>The repository root (the folder that holds <c>Platform.sln</c>).</summary>
    public static string RepoRoot => Repo.Value;

    /// <summary>The shared folder (holds <c>scripts/</c>, <c>datasets/</c>, <c>reference/</c>).</summary>
    public static string SharedDirectory => Shared.Value;

    /// <summary>The shared scripts folder (<c>start-postgres.sh</c> and friends).</summary>
    public static string SharedScripts => Path.Combine(SharedDirectory, "scripts");

    /// <summary>A path under the repository root.</summary>
    public static string InRepo(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    /// <summary>Walks up from <see cref="AppContext.BaseDirectory"/> and returns the first folder that satisfies <paramref name="match"/>.</summary>
    public static string? FindUpwards(Func<DirectoryInfo, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (match(dir)) return dir.FullName;
        return null;
    }

    private static string FindShared()
    {
        if (Environment.GetEnvironmentVariable(SharedDirectoryVariable) is { Length: > 0 } fromEnvironment)
            return Directory.Exists(fromEnvironment)
                ? Path.GetFullPath(fromEnvironment)
                : throw new DirectoryNotFoundException($"{SharedDirectoryVariable} is '{fromEnvironment}', which does not exist.");
        var parent = FindUpwards(d => Directory.Exists(Path.Combine(d.FullName, "shared", "scripts")))
            ?? throw new DirectoryNotFoundException(
                $"No folder with shared/scripts above {AppContext.BaseDirectory}. Put the shared folder beside the repository or set {SharedDirectoryVariable}.");
        return Path.Combine(parent, "shared");
    }
}
