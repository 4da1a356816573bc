using System.Data.Common;

namespace Platform.Activities;

/// <summary>
/// Named secrets (API keys, tokens) an activity reads from its context: <c>context.GetRequiredService&lt;IPackSecrets&gt;()</c>.
/// A pack reads only the names its <c>pack.json</c> declares under <c>permissions.secrets</c>; any other name faults the
/// activity with a <see cref="PackPermissionException"/>.
/// </summary>
public interface IPackSecrets
{
    /// <summary>The secret's value.</summary>
    /// <exception cref="PackPermissionException">The pack did not declare the name.</exception>
    /// <exception cref="ActivityFaultException">No secret of that name is configured on the server (code <c>configuration</c>).</exception>
    ValueTask<string> GetAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// The server's named data sources, opened by name: <c>context.GetRequiredService&lt;IPackDataSources&gt;()</c>. A pack opens
/// only the names its <c>pack.json</c> declares under <c>permissions.dataSources</c>.
/// </summary>
public interface IPackDataSources
{
    /// <summary>An open connection to the data source; dispose it when done.</summary>
    /// <exception cref="PackPermissionException">The pack did not declare the name.</exception>
    /// <exception cref="ActivityFaultException">No data source of that name exists (code <c>configuration</c>).</exception>
    ValueTask<DbConnection> OpenAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>
/// The server's MQTT connection: <c>context.GetRequiredService&lt;IPackMqtt&gt;()</c>. A pack publishes and subscribes only on
/// topics matched by the patterns its <c>pack.json</c> declares under <c>permissions.mqtt</c> (<c>+</c> and <c>#</c> wildcards).
/// </summary>
public interface IPackMqtt
{
    /// <summary>Publishes a message (QoS 1) and returns once the broker acknowledged it.</summary>
    /// <exception cref="PackPermissionException">No declared pattern matches the topic.</exception>
    Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain = false, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to a topic filter; dispose the result to unsubscribe. The handler gets the topic and the payload.</summary>
    /// <exception cref="PackPermissionException">No declared pattern covers the filter.</exception>
    Task<IAsyncDisposable> SubscribeAsync(string filter, Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> handler, CancellationToken cancellationToken = default);
}

/// <summary>
/// A pack tried to reach something its <c>pack.json</c> does not declare. The engine records it as an incident (code
/// <see cref="FaultCodes.Permission"/>, not retried) whose message names the missing permission and how to declare it.
/// </summary>
public sealed class PackPermissionException : ActivityFaultException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="packId">The pack.</param>
    /// <param name="permission">The <c>pack.json</c> permission list: <c>network</c>, <c>secrets</c>, <c>dataSources</c> or <c>mqtt</c>.</param>
    /// <param name="value">What was refused (a host, a name, a topic).</param>
    /// <param name="what">A short description of the attempt, e.g. "connect to api.example.com:443".</param>
    public PackPermissionException(string packId, string permission, string value, string what)
        : base(FaultCodes.Permission,
            $"The pack '{packId}' may not {what}: its pack.json does not declare it. Add \"{value}\" to permissions.{permission} in pack.json " +
            $"(e.g. \"permissions\": {{ \"{permission}\": [\"{value}\"] }}), then pack and install a new version.", nonRetryable: true)
    {
        PackId = packId;
        Permission = permission;
        Value = value;
    }

    /// <summary>The pack.</summary>
    public string PackId { get; }

    /// <summary>The missing permission list (<c>network</c>, <c>secrets</c>, <c>dataSources</c>, <c>mqtt</c>).</summary>
    public string Permission { get; }

    /// <summary>What was refused.</summary>
    public string Value { get; }
}
