global using Xunit;
using Platform.Testing;

[assembly: AssemblyFixture(typeof(PostgresFixture))]
