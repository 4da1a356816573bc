using Platform.Testing;

// One PostgreSQL server for the whole run (started on first use unless PG_CONN is set); each test creates its own database.
[assembly: AssemblyFixture(typeof(PostgresFixture))]
