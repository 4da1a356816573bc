using Microsoft.Extensions.Options;

namespace Platform.Engine.Runtime;

/// <summary>
/// Checks <see cref="EngineRuntimeOptions"/> (<c>Platform:Engine</c>) when the host starts, so a bad default retry policy or a
/// negative shutdown timeout stops the start with a message that says how to fix it, instead of surfacing at the first fault.
/// </summary>
public sealed class EngineRuntimeOptionsValidator : IValidateOptions<EngineRuntimeOptions>
{
    /// <summary>The configuration section the server binds to <see cref="EngineRuntimeOptions"/>.</summary>
    public const string SectionName = "Platform:Engine";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EngineRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.ShutdownTimeout < TimeSpan.Zero)
            errors.Add($"{SectionName}:ShutdownTimeout is {options.ShutdownTimeout}; use a duration of zero or more, e.g. 00:00:30.");
        if (options.LookupCacheDuration < TimeSpan.Zero)
            errors.Add($"{SectionName}:LookupCacheDuration is {options.LookupCacheDuration}; use a duration of zero (no cache) or more, e.g. 00:00:01.");
        if (options.BookmarkAbsenceDuration < TimeSpan.Zero)
            errors.Add($"{SectionName}:BookmarkAbsenceDuration is {options.BookmarkAbsenceDuration}; use a duration of zero (no reuse) or more, e.g. 00:00:30.");
        if (options.DefaultRetryPolicy is { } policy)
        {
            try { policy.ToPolicy(); }
            catch (FormatException e) { errors.Add($"{SectionName}:DefaultRetryPolicy is not valid: {e.Message}"); }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
