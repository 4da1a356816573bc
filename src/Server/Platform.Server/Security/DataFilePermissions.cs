using System.Runtime.InteropServices;

namespace Platform.Server.Security;

/// <summary>
/// Keeps the data directory private to the server's user (issue 16, L4): the directory is 0700, the files already in it
/// (platform.db and its WAL/SHM, the generated keys) are 0600, platform.db is created 0600 before SQLite opens it (SQLite
/// gives its WAL and SHM files the database file's mode), and the process umask is set to 077, so every file the
/// server creates later (the demo shop database, data protection keys) is 0600 too.
/// Turned off with <c>Platform:Security:RestrictFileModes=false</c>.
/// </summary>
public static class DataFilePermissions
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Restricts the data directory and its files; does nothing on Windows.</summary>
    /// <param name="dataDirectory">The resolved data directory (it exists).</param>
    /// <param name="sqliteFile">The SQLite database file to create 0600 when it does not exist yet, or null.</param>
    public static void Restrict(string dataDirectory, string? sqliteFile)
    {
        if (OperatingSystem.IsWindows()) return;
        _ = Umask(0b000_111_111); // 077: new files 0600, new directories 0700
        Tighten(dataDirectory, OwnerDirectory);
        foreach (var file in Directory.EnumerateFiles(dataDirectory)) Tighten(file, OwnerFile);
        if (sqliteFile is not null && !File.Exists(sqliteFile))
        {
            try
            {
                using var _ = new FileStream(sqliteFile, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerFile });
            }
            catch (IOException) when (File.Exists(sqliteFile)) { }
        }
    }

    private static void Tighten(string path, UnixFileMode allowed)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & ~allowed) != 0) File.SetUnixFileMode(path, mode & allowed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to change (e.g. a file another user put there): left as it is.
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code in the whole project for this one call
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
#pragma warning restore SYSLIB1054
}
