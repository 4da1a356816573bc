namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Serialises writes to SQLite inside this process. SQLite allows one writer at a time; queueing writers here is fairer and much
/// cheaper than letting them collide in the busy handler. For PostgreSQL it does nothing. Other modules that write to the platform
/// database (outbox, channels) should enter it around their write transactions too.
/// </summary>
public sealed class PlatformWriteGate : IDisposable
{
    private readonly SemaphoreSlim? _semaphore;

    /// <summary>Creates the gate for a provider.</summary>
    public PlatformWriteGate(PlatformDatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _semaphore = settings.Provider == PlatformDatabaseProvider.Sqlite ? new SemaphoreSlim(1, 1) : null;
    }

    /// <summary>Waits for the write turn; dispose the result to release it.</summary>
    public ValueTask<Releaser> EnterAsync(CancellationToken ct = default)
    {
        if (_semaphore is null) return ValueTask.FromResult(default(Releaser));
        var wait = _semaphore.WaitAsync(ct);
        return wait.IsCompletedSuccessfully ? ValueTask.FromResult(new Releaser(_semaphore)) : AwaitAsync(wait, _semaphore);

        static async ValueTask<Releaser> AwaitAsync(Task wait, SemaphoreSlim semaphore)
        {
            await wait.ConfigureAwait(false);
            return new Releaser(semaphore);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _semaphore?.Dispose();

    /// <summary>Releases the write turn.</summary>
    public readonly struct Releaser : IDisposable
    {
        private readonly SemaphoreSlim? _semaphore;
        internal Releaser(SemaphoreSlim semaphore) => _semaphore = semaphore;

        /// <inheritdoc />
        public void Dispose() => _semaphore?.Release();
    }
}
