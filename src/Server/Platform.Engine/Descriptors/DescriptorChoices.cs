namespace Platform.Engine.Descriptors;

/// <summary>
/// Computes choices of activity inputs (drop-down and checklist options such as the configured models, the tool workflows or
/// the knowledge bases) when the Studio requests the descriptors, so that what was created since start appears after a reload
/// of the designer. Implementations re-register the descriptors whose choices changed (<see cref="ActivityRegistry.Register"/>).
/// </summary>
public interface IDescriptorChoices
{
    /// <summary>Brings the choices up to date; failures are logged, never thrown.</summary>
    Task RefreshAsync(CancellationToken cancellationToken = default);
}
