global using Xunit;

// mosquitto and the mail stack: the ones in MQTT_PORT / SMTP_PORT+IMAP_PORT, else started from tests/services on first use and
// stopped when this assembly's tests are done.
[assembly: AssemblyFixture(typeof(Platform.Testing.MosquittoFixture))]
[assembly: AssemblyFixture(typeof(Platform.Testing.MailFixture))]
