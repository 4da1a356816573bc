namespace Platform.Testing;

/// <summary>Debian's Chromium for browser tests (browser downloads never work here): installed on first use when missing.</summary>
public static class DebianChromium
{
    /// <summary>Where Debian's <c>chromium</c> package puts the browser.</summary>
    public const string DefaultPath = "/usr/bin/chromium";

    private static readonly Lazy<string> Installed = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Returns <see cref="DefaultPath"/>, first installing the Debian packages <c>chromium</c> and <c>fonts-liberation</c>
    /// with <c>tests/services/install-packages.sh</c> when it is missing (as root; otherwise a clear error with the command).
    /// </summary>
    public static string EnsureInstalled() => Installed.Value;

    private static string Install()
    {
        if (File.Exists(DefaultPath)) return DefaultPath;
        try
        {
            ServiceScripts.InstallDebianPackages("chromium", "fonts-liberation");
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                $"{DefaultPath} is missing and could not be installed: {e.Message}\nInstall Debian's Chromium with " +
                "'apt-get update && apt-get install -y chromium' (never 'playwright install'), or set CHROMIUM_PATH.", e);
        }
        return File.Exists(DefaultPath)
            ? DefaultPath
            : throw new InvalidOperationException($"apt-get installed chromium, yet {DefaultPath} is still missing.");
    }
}
