using System.Text;

namespace Platform.Mqtt;

/// <summary>A generated secret kept in a file that only the server's user can read (0600).</summary>
internal static class SecretFile
{
    /// <summary>The file's secret; created with <paramref name="create"/> when the file does not exist.</summary>
    /// <exception cref="InvalidOperationException">The file is empty.</exception>
    public static string LoadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                if ((mode & ~owner) != 0) File.SetUnixFileMode(path, mode & owner);
            }
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0) return existing;
            throw new InvalidOperationException($"The file '{path}' is empty. Delete it to have a new secret generated.");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var secret = create();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            writer.Write(secret);
        }
        catch (IOException) when (File.Exists(path))
        {
            return LoadOrCreate(path, create); // another process wrote it first
        }
        return secret;
    }
}
