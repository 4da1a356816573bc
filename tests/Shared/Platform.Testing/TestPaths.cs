namespace Platform.Testing;

/// <summary>
/// Finds the repository from a test's base directory. Everything the tests read lives in the repository (service scripts in
/// <c>tests/services</c>, reference fixtures in <c>tests/Shared/reference</c>); nothing outside it is needed.
/// </summary>
public static class TestPaths
{
    private static readonly Lazy<string> Repo = new(() => FindUpwards(d => File.Exists(Path.Combine(d.FullName, "Platform.sln")))
        ?? throw new DirectoryNotFoundException($"No folder with Platform.sln above {AppContext.BaseDirectory}."));

    /// <summary>The repository root (the folder that holds <c>Platform.sln</c>).</summary>
    public static string RepoRoot => Repo.Value;

    /// <summary>The service scripts folder, <c>tests/services</c> (same as <see cref="ServiceScripts.Directory"/>).</summary>
    public static string SharedScripts => ServiceScripts.Directory;

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
}
