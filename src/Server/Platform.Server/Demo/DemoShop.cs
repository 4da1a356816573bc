using System.Globalization;
using Platform.Activities.Data;

namespace Platform.Server.Demo;

/// <summary>
/// The demo shop the seed assistant answers from: customers, orders (five of them today) and inventory. The embedded default
/// creates it in SQLite on first start (<see cref="DemoSeeder"/>); to run the demo on PostgreSQL, run <see cref="Sql"/> for
/// <see cref="DataSourceProviderKind.PostgreSql"/> in a database of your own and point the data source <c>demo</c> at it
/// (<c>PUT /api/data-sources/demo</c>).
/// </summary>
public static class DemoShop
{
    /// <summary>
    /// The statements that create (or refill) the demo shop, with orders dated relative to <paramref name="now"/> (UTC) so that
    /// "today" always has some. SQLite gets TEXT timestamps and REAL totals; PostgreSQL gets TIMESTAMP and NUMERIC(10,2), so that the
    /// seed workflow's <c>ROUND(SUM(total), 2)</c> and <c>date(created_at)</c> work there too.
    /// </summary>
    /// <exception cref="NotSupportedException">A provider other than SQLite or PostgreSQL.</exception>
    public static string Sql(DateTimeOffset now, DataSourceProviderKind provider)
    {
        var (timestamp, money) = provider switch
        {
            DataSourceProviderKind.Sqlite => ("TEXT", "REAL"),
            DataSourceProviderKind.PostgreSql => ("TIMESTAMP", "NUMERIC(10,2)"),
            _ => throw new NotSupportedException($"The demo shop is available for SQLite and PostgreSQL, not {provider}."),
        };
        string Day(int daysAgo, int hour) => now.UtcDateTime.Date.AddDays(-daysAgo).AddHours(hour).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var orders = new List<string>();
        var id = 1;
        var rows = new (int DaysAgo, int Hour, int Customer, string Status, decimal Total)[]
        {
            (0, 0, 1, "paid", 129.90m), (0, 0, 2, "paid", 45.00m), (0, 0, 3, "pending", 12.50m), (0, 0, 4, "paid", 310.00m), (0, 0, 5, "shipped", 78.20m),
            (1, 9, 1, "shipped", 64.00m), (1, 14, 3, "shipped", 19.99m), (1, 16, 6, "paid", 220.00m),
            (2, 10, 2, "shipped", 99.00m), (2, 11, 4, "cancelled", 15.00m), (3, 8, 5, "shipped", 42.42m), (5, 13, 6, "shipped", 500.00m),
        };
        foreach (var r in rows)
            orders.Add($"({id++}, {r.Customer}, '{Day(r.DaysAgo, r.Hour)}', '{r.Status}', {r.Total.ToString(CultureInfo.InvariantCulture)})");
        return $"""
            CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, city TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), created_at {timestamp} NOT NULL,
                status TEXT NOT NULL, total {money} NOT NULL);
            CREATE TABLE IF NOT EXISTS inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, quantity INTEGER NOT NULL, reorder_level INTEGER NOT NULL);
            DELETE FROM orders; DELETE FROM customers; DELETE FROM inventory;
            INSERT INTO customers VALUES (1, 'Ada Lovelace', 'ada@example.com', 'London'), (2, 'Grace Hopper', 'grace@example.com', 'New York'),
                (3, 'Alan Turing', 'alan@example.com', 'Manchester'), (4, 'Margaret Hamilton', 'margaret@example.com', 'Boston'),
                (5, '李雷', 'lilei@example.com', '上海'), (6, 'Katherine Johnson', 'katherine@example.com', 'Hampton');
            INSERT INTO orders VALUES {string.Join(", ", orders)};
            INSERT INTO inventory VALUES ('LAMP-01', 'Desk lamp', 42, 10), ('BULB-E27', 'LED bulb E27', 7, 20), ('PLUG-EU', 'Smart plug', 0, 5),
                ('THERM-2', 'Thermostat', 15, 5), ('LOCK-9', 'Smart door lock', 3, 2);
            """;
    }
}
