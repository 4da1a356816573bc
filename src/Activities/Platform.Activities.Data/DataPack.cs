namespace Platform.Activities.Data;

/// <summary>The database activities: <see cref="QueryDatabase"/> and <see cref="FormatResult"/> over named data sources.</summary>
public sealed class DataPack : IActivityPack
{
    /// <inheritdoc />
    public string Name => "Data";
}
