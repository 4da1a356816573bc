using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>Keeps the servers' error logs so a failing assertion can show what the server logged.</summary>
public sealed class ServerErrorLog : ILoggerProvider
{
    private static readonly ConcurrentQueue<string> Entries = new();

    /// <summary>The latest entries, newest last.</summary>
    public static string Latest(int count = 5) => string.Join(Environment.NewLine, Entries.TakeLast(count));

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

    /// <inheritdoc />
    public void Dispose() { }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            Entries.Enqueue($"{category}: {formatter(state, exception)} {exception}");
            while (Entries.Count > 50) Entries.TryDequeue(out _);
        }
    }
}
