namespace Platform.Studio;

/// <summary>
/// Options of the Studio host, bound from the <c>Platform:Studio</c> configuration section
/// (for example the environment variable <c>Platform__Studio__BundlePath</c>).
/// </summary>
public sealed class StudioOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Platform:Studio";

    /// <summary>
    /// Directory that holds the static site of the <c>@elsa-workflows/elsa-studio-wasm</c> npm package
    /// (the folder containing <c>_framework</c> and <c>_content</c>). When empty, the Studio uses
    /// <c>studio/</c> under the application's base directory, where the build copies the bundle.
    /// A relative path is resolved against the application's base directory.
    /// </summary>
    public string? BundlePath { get; set; }
}
