namespace Platform.Intents.Models;

/// <summary>
/// Writes a model folder (an extracted encoder, a distilled table, a built GloVe model) all at once: the files go into a
/// temporary folder beside it, which is then moved into place, so a reader never sees half a model and concurrent writers
/// are safe (the first complete folder wins).
/// </summary>
internal static class ModelDirectory
{
    /// <summary>Writes <paramref name="directory"/> through <paramref name="write"/> and returns the complete model.</summary>
    /// <param name="directory">The final folder.</param>
    /// <param name="write">Writes the model's files into the temporary folder it is given.</param>
    /// <param name="tryGetCached">The complete model in the final folder, or null.</param>
    /// <exception cref="IOException">The folder could not be written.</exception>
    public static T Publish<T>(string directory, Action<string> write, Func<T?> tryGetCached) where T : class
    {
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            if (Directory.Exists(full))
            {
                if (tryGetCached() is { } raced) return raced;
                Directory.Delete(full, recursive: true);
            }
            try
            {
                Directory.Move(temp, full);
            }
            catch (IOException) when (tryGetCached() is not null)
            {
                // Another writer won the race.
            }
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return tryGetCached() ?? throw new IOException($"The model in '{full}' could not be written.");
    }
}
