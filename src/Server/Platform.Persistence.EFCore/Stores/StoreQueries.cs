namespace Platform.Persistence.EFCore.Stores;

/// <summary>Query helpers shared by the stores.</summary>
internal static class StoreQueries
{
    /// <summary>Keeps the last item for each id (a batch must not insert one key twice).</summary>
    public static List<T> LastPerId<T>(IEnumerable<T> items, Func<T, string> id)
    {
        var byId = new Dictionary<string, int>(StringComparer.Ordinal);
        var list = new List<T>();
        foreach (var item in items)
        {
            ArgumentNullException.ThrowIfNull(item);
            if (byId.TryGetValue(id(item), out var index)) list[index] = item;
            else
            {
                byId[id(item)] = list.Count;
                list.Add(item);
            }
        }
        return list;
    }

    /// <summary>Lower-cases a search term the way <see cref="PlatformDbFunctions.Fold"/> lower-cases columns.</summary>
    public static string NormalizeSearch(string term) => term.ToLowerInvariant();

    public static (int Skip, int Take) Normalize(Platform.Engine.Contracts.PageArgs page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return (Math.Max(0, page.Skip), Math.Max(0, page.Take));
    }
}
