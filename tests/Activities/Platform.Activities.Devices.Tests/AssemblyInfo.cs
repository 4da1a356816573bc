global using Xunit;

// mosquitto: the one in MQTT_PORT, else started from tests/services on first use and stopped when this assembly's tests are done.
[assembly: AssemblyFixture(typeof(Platform.Testing.MosquittoFixture))]
