namespace Platform.Activities;

/// <summary>
/// The one failure type activities throw on purpose. The engine records it as an incident with its code.
/// </summary>
public class ActivityFaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">A stable code from <see cref="FaultCodes"/> or the pack's own constants.</param>
    /// <param name="message">What went wrong and how to fix it.</param>
    /// <param name="nonRetryable">True when retrying cannot help (bad configuration, bad input).</param>
    /// <param name="inner">The underlying exception.</param>
    public ActivityFaultException(string code, string message, bool nonRetryable = false, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        NonRetryable = nonRetryable;
    }

    /// <summary>A stable fault code.</summary>
    public string Code { get; }

    /// <summary>True when retrying cannot help.</summary>
    public bool NonRetryable { get; }

    /// <summary>When set, the earliest moment a retry makes sense.</summary>
    public TimeSpan? NextRetryDelay { get; init; }
}

/// <summary>Fault codes used by the engine and core activities.</summary>
public static class FaultCodes
{
    /// <summary>An expression failed to evaluate.</summary>
    public const string Expression = "expression";
    /// <summary>An input value could not be converted to its type.</summary>
    public const string InputConversion = "input-conversion";
    /// <summary>A required service or configuration is missing.</summary>
    public const string Configuration = "configuration";
    /// <summary>An unexpected exception in an activity.</summary>
    public const string Unhandled = "unhandled";
    /// <summary>An HTTP call failed.</summary>
    public const string Http = "http";
    /// <summary>A sub-workflow could not be run.</summary>
    public const string Workflow = "workflow";
    /// <summary>A pack reached for something its pack.json does not declare (<see cref="PackPermissionException"/>).</summary>
    public const string Permission = "permission";
}
