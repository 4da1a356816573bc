using System.Collections.Concurrent;
using System.Data.Common;

namespace Platform.Testing;

/// <summary>
/// Opens many connections at once, round after round, and reports any native handle lent to two openers at the same time
/// (and any provider error on the way). The races it looks for need a preemption at the wrong instruction, so a clean run
/// guards against regressions more than it proves their absence.
/// </summary>
public static class ConnectionPoolStress
{
    /// <summary>One opened connection: its native handle, and how to close it.</summary>
    public readonly record struct Opened(IntPtr Handle, Action Close);

    /// <summary>
    /// Runs <paramref name="rounds"/> rounds on <paramref name="openers"/> threads. In each, every thread opens a connection;
    /// once all are open the handles are compared and <paramref name="whileAllOpen"/> runs (e.g. clearing the pool so the
    /// next opens create connections); then every thread closes its own.
    /// </summary>
    /// <returns>What went wrong, one line each; empty when nothing did.</returns>
    public static IReadOnlyList<string> Run(int openers, int rounds, Func<Opened> open, Action whileAllOpen)
    {
        var handles = new IntPtr[openers];
        var problems = new ConcurrentQueue<string>();
        using var barrier = new Barrier(openers, _ =>
        {
            if (handles.Distinct().Count() != openers) problems.Enqueue("one handle lent twice: " + string.Join(", ", handles));
            whileAllOpen();
        });
        var threads = Enumerable.Range(0, openers).Select(i => new Thread(() =>
        {
            for (var round = 0; round < rounds; round++)
            {
                Opened opened = default;
                try { opened = open(); }
                catch (DbException e) { problems.Enqueue($"open: {e.Message}"); }
                handles[i] = opened.Handle == IntPtr.Zero ? -1 - i : opened.Handle; // a failed open is not a shared handle
                barrier.SignalAndWait();
                try { opened.Close?.Invoke(); }
                catch (DbException e) { problems.Enqueue($"close: {e.Message}"); }
            }
        })).ToList();

        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return [.. problems];
    }
}
