namespace Platform.Testing;

/// <summary>A fresh, uniquely named directory under the system temp folder, deleted (best effort) on dispose.</summary>
/// <example><code>using var temp = new TempDirectory(); var db = temp.File("platform.db");</code></example>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Creates the directory, named <c>{prefix}-{random}</c>.</summary>
    public TempDirectory(string prefix = "platform-test")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    /// <summary>The full path of the directory.</summary>
    public string Path { get; }

    /// <summary>A path inside the directory (nothing is created).</summary>
    public string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates a sub-directory and returns its path.</summary>
    public string CreateSubdirectory(string name) => Directory.CreateDirectory(File(name)).FullName;

    /// <inheritdoc />
    public override string ToString() => Path;

    /// <summary>Deletes the directory and everything in it; failures (a file still open on another OS) are ignored.</summary>
    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
