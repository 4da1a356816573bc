namespace Platform.Studio.BrowserTests.Infrastructure;

/// <summary>Where things are: the repository, the failure artifacts, the reference fake backend.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder with Platform.sln), or null when the tests run outside a clone.</summary>
    public static string? RepositoryRoot { get; } = FindUp(AppContext.BaseDirectory, d => File.Exists(Path.Combine(d, "Platform.sln")));

    /// <summary><c>test-artifacts/studio</c> in the repository (gitignored), else under the test output.</summary>
    public static string ArtifactsRoot => Path.Combine(RepositoryRoot ?? AppContext.BaseDirectory, "test-artifacts", "studio");

    /// <summary>A fresh folder for one test's failure artifacts.</summary>
    public static string NewArtifactsDirectory(string testName)
    {
        var dir = Path.Combine(ArtifactsRoot, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{testName}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// The reference fake Elsa backend (server.js, fixtures-plus.js): <c>ELSA_STUDIO_REFERENCE_DIR</c>, else the repository's
    /// <c>tests/Shared/reference/elsa-studio-api</c>.
    /// </summary>
    public static string? FakeBackendDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("ELSA_STUDIO_REFERENCE_DIR");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        var inRepository = RepositoryRoot is null ? null : Path.Combine(RepositoryRoot, "tests", "Shared", "reference", "elsa-studio-api");
        return inRepository is not null && File.Exists(Path.Combine(inRepository, "server.js")) ? inRepository : null;
    }

    /// <summary>A new empty temporary folder.</summary>
    public static string NewTempDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void TryDelete(string? directory)
    {
        if (directory is null)
        {
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A browser or server that is still shutting down may hold a file; the temp folder is cleaned later.
        }
    }

    private static string? FindUp(string start, Func<string, bool> predicate)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (predicate(dir.FullName))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
