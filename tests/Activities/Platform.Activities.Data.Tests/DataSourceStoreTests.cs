using Platform.Activities.Security;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.Activities.Data.Tests;

/// <summary>The JSON-file store and the secrets key.</summary>
public sealed class DataSourceStoreTests
{
    [Fact]
    public async Task Should_ReadBackDecrypted_When_ReopenedWithSameKey()
    {
        using var dir = new TempDirectory("data-store");
        var key = RandomNumberGenerator.GetBytes(32);
        var path = dir.File("data-sources.json");
        var store = new JsonFileDataSourceStore(path, new SecretProtector(key));
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => store.SaveAsync(new DataSource
        {
            Name = $"db{i}", Provider = DataSourceProviderKind.MySql, ConnectionString = $"Server=h;Password=pw{i}",
        })));
        Assert.DoesNotContain("pw3", await File.ReadAllTextAsync(path));
        var reopened = new JsonFileDataSourceStore(path, new SecretProtector(key));
        Assert.Equal(10, (await reopened.ListAsync()).Count);
        Assert.Equal("Server=h;Password=pw3", (await reopened.FindAsync("DB3"))!.ConnectionString);
        Assert.True(await reopened.DeleteAsync("db3"));
        Assert.Null(await reopened.FindAsync("db3"));

        var wrongKey = new JsonFileDataSourceStore(path, new SecretProtector(RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => wrongKey.ListAsync());
    }

    [Fact]
    public void Should_ReuseGeneratedKey_When_NoKeyIsConfigured()
    {
        using var dir = new TempDirectory("data-key");
        var first = DataHostExtensions.LoadSecretsKey(null, dir.Path, NullLogger.Instance);
        var second = DataHostExtensions.LoadSecretsKey("", dir.Path, NullLogger.Instance);
        Assert.Equal(32, first.Length);
        Assert.Equal(first, second);
        var configured = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(configured, DataHostExtensions.LoadSecretsKey(Convert.ToBase64String(configured), dir.Path, NullLogger.Instance));
        var e = Assert.Throws<InvalidOperationException>(() => DataHostExtensions.LoadSecretsKey("c2hvcnQ=", dir.Path, NullLogger.Instance));
        Assert.Contains("32 random bytes", e.Message);
    }

    [Theory]
    [InlineData("Host=h;Username=u;Password=secret", "secret")]
    [InlineData("Server=h;User ID=u;Pwd=secret", "secret")]
    [InlineData("not a connection string ;;==", "not a connection")]
    public void Should_HideSecrets_When_Masking(string connectionString, string hidden)
    {
        Assert.DoesNotContain(hidden, SqlSafety.Mask(connectionString));
    }
}
