using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Tests.Infrastructure;

namespace Platform.Server.Tests;

/// <summary><c>/openapi/v1.json</c> describes every route under /api and /elsa/api; <c>/scalar</c> shows it.</summary>
public sealed partial class OpenApiTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"\{\*{0,2}([A-Za-z0-9_]+)(?::[^}=?]+)*(?:=[^}]*)?\??\}")]
    private static partial Regex ParameterRegex();

    [Fact]
    public async Task Should_List_Every_Mapped_Api_Route_When_The_OpenApi_Document_Is_Read()
    {
        // Arrange
        using var anonymous = server.Factory.CreateClient(apiKey: null);
        var routes = server.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw.StartsWith("/api/", StringComparison.Ordinal) || raw.StartsWith("/elsa/api/", StringComparison.Ordinal)))
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Method: m.ToLowerInvariant(), Path: ParameterRegex().Replace(e.RoutePattern.RawText!, "{$1}").TrimEnd('/')))) // a group's "/" route is its prefix
            .Distinct().ToList();

        // Act
        var document = await anonymous.GetJsonAsync("/openapi/v1.json");
        using var page = await anonymous.GetAsync("/scalar/v1", Ct);

        // Assert
        Assert.Matches(@"^3\.\d+\.\d+$", document.Str("openapi"));
        Assert.False(string.IsNullOrEmpty(document["info"].Str("title")));
        var paths = document["paths"]!.AsObject();
        Assert.True(routes.Count > 30, $"Only {routes.Count} routes were found under /api and /elsa/api.");
        var missing = routes.Where(r => paths[r.Path]?[r.Method] is null).Select(r => $"{r.Method.ToUpperInvariant()} {r.Path}").ToList();
        Assert.True(missing.Count == 0, $"Missing from /openapi/v1.json: {string.Join(", ", missing)}");
        Assert.All(paths, p => Assert.True(p.Key.StartsWith("/api/", StringComparison.Ordinal) || p.Key.StartsWith("/elsa/api/", StringComparison.Ordinal), p.Key));
        foreach (var (_, item) in paths)
            foreach (var (_, operation) in item!.AsObject())
                Assert.NotNull(operation!["responses"]);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
