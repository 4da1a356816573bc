// mosquitto and the mail stack (SeedWorkflowChannelTests): the ones in MQTT_PORT / SMTP_PORT+IMAP_PORT, else started from
// tests/services on first use and stopped when this assembly's tests are done. Tests that never use them never start them.
[assembly: AssemblyFixture(typeof(Platform.Testing.MosquittoFixture))]
[assembly: AssemblyFixture(typeof(Platform.Testing.MailFixture))]
