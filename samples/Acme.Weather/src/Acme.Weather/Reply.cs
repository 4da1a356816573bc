namespace Acme.Weather;

/// <summary>How the pack words its reply (the upgrade test of the platform changes this line for version 2).</summary>
internal static class Reply
{
    /// <summary>{0} city, {1} condition, {2} temperature in °C.</summary>
    public const string Format = "The weather in {0}: {1}, {2} °C.";
}
