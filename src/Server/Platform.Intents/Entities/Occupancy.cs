using System.Collections;

namespace Platform.Intents.Entities;

/// <summary>
/// Which characters of a text are already covered by a kept match. Taking a match costs its length, so choosing
/// non-overlapping matches is linear in the text instead of quadratic in the number of matches.
/// </summary>
internal sealed class Occupancy(int length)
{
    private readonly BitArray _used = new(Math.Max(0, length));

    /// <summary>Marks [start, end) as used and returns true, or returns false when any of it is already used.</summary>
    public bool TryTake(int start, int end)
    {
        start = Math.Max(0, start);
        end = Math.Min(_used.Length, end);
        for (var i = start; i < end; i++)
        {
            if (_used[i]) return false;
        }
        for (var i = start; i < end; i++) _used[i] = true;
        return true;
    }
}
