using Xunit;

namespace Platform.Testing;

/// <summary>
/// A real mosquitto broker on 127.0.0.1 for tests: the one at <c>MQTT_PORT</c> when that variable is set (CI starts it up
/// front), else a private broker started on first use of <see cref="Port"/> with <c>tests/services/start-mosquitto.sh</c>
/// (which installs Debian's mosquitto when missing, as root), shared by the whole test process and stopped at its end.
/// Register it as an assembly fixture so it is stopped as soon as the assembly's tests are done; tests keep apart by
/// using topics of their own.
/// </summary>
/// <example><code>
/// [assembly: AssemblyFixture(typeof(MosquittoFixture))]
/// var options = new MqttOptions { Host = "127.0.0.1", Port = MosquittoFixture.Port };
/// </code></example>
public sealed class MosquittoFixture : IAsyncLifetime
{
    /// <summary>The environment variable with the port of a running broker.</summary>
    public const string PortVariable = "MQTT_PORT";

    private static readonly ScriptedService Service = new("mosquitto", "start-mosquitto.sh", "stop-mosquitto.sh");

    /// <summary>The broker's port on 127.0.0.1 (starts the private broker on first use when <c>MQTT_PORT</c> is not set).</summary>
    public static int Port => ServiceScripts.PortFromEnvironment(PortVariable) ?? Service.Port("MQTT_PORT");

    /// <inheritdoc />
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Stops the private broker, if one was started.</summary>
    public ValueTask DisposeAsync()
    {
        Service.Stop();
        return ValueTask.CompletedTask;
    }
}
