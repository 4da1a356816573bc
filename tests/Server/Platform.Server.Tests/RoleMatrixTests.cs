using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Tests.Infrastructure;

namespace Platform.Server.Tests;

/// <summary>
/// Every mapped route × every role (issue 16, part 2): the routes come from the app's <see cref="EndpointDataSource"/>, so a new
/// route cannot be forgotten; <see cref="MinimumRole"/> says what each one needs.
/// </summary>
public sealed partial class RoleMatrixTests(RolesServerFixture server) : IClassFixture<RolesServerFixture>
{
    private const string Anonymous = "anonymous";
    private const string Metrics = "metrics"; // its own rule: allowed addresses without a key, otherwise any role
    private const string StudioAsset = "studio"; // the Studio's static pages and files: anonymous
    private const string OwnCheck = "own-check"; // the handler itself decides (a one-time link, a first-start session): never 5xx

    private static readonly string[] Roles = ["Viewer", "Operator", "Designer", "Admin"];

    /// <summary>"METHOD pattern" → the least privileged role that may call it (or <see cref="Anonymous"/> / <see cref="Metrics"/>).</summary>
    private static readonly Dictionary<string, string> MinimumRole = new(StringComparer.Ordinal)
    {
        // Elsa API: workflow instances.
        ["GET /elsa/api/workflow-instances"] = "Viewer",
        ["POST /elsa/api/workflow-instances"] = "Viewer", // a query
        ["GET /elsa/api/workflow-instances/{id}"] = "Viewer",
        ["GET /elsa/api/workflow-instances/{id}/execution-state"] = "Viewer",
        ["POST /elsa/api/workflow-instances/{id}/journal"] = "Viewer", // a query
        ["GET /elsa/api/workflow-instances/{id}/journal"] = "Viewer",
        ["GET /elsa/api/workflow-instances/{id}/variables"] = "Viewer",
        ["POST /elsa/api/workflow-instances/{id}/cancel"] = "Operator",
        ["POST /elsa/api/cancel/workflow-instances/{id}"] = "Operator",
        ["POST /elsa/api/bulk-actions/cancel/workflow-instances"] = "Operator",
        ["POST /elsa/api/bulk-actions/cancel/workflow-instances/by-id"] = "Operator",
        ["POST /elsa/api/workflow-instances/{id}/retry"] = "Operator",
        ["DELETE /elsa/api/workflow-instances/{id}"] = "Operator",
        ["POST /elsa/api/bulk-actions/delete/workflow-instances"] = "Operator",
        ["POST /elsa/api/bulk-actions/delete/workflow-instances/by-id"] = "Operator",
        // Elsa API: workflow definitions.
        ["GET /elsa/api/workflow-definitions"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/query/count"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/by-definition-id/{definitionId}"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/by-id/{id}"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/validation/is-name-unique"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/{definitionId}/consumers"] = "Viewer",
        ["GET /elsa/api/workflow-definitions/{definitionId}/export"] = "Viewer",
        ["POST /elsa/api/workflow-definitions"] = "Designer",
        ["POST /elsa/api/workflow-definitions/{definitionId}/publish"] = "Designer",
        ["POST /elsa/api/workflow-definitions/{definitionId}/retract"] = "Designer",
        ["DELETE /elsa/api/workflow-definitions/{definitionId}"] = "Designer",
        ["DELETE /elsa/api/workflow-definitions/by-id/{id}"] = "Designer",
        ["POST /elsa/api/workflow-definitions/{definitionId}/revert/{version}"] = "Designer",
        ["POST /elsa/api/workflow-definitions/import"] = "Designer",
        ["POST /elsa/api/workflow-definitions/import-files"] = "Designer",
        ["POST /elsa/api/bulk-actions/publish/workflow-definitions/by-definition-ids"] = "Designer",
        ["POST /elsa/api/bulk-actions/retract/workflow-definitions/by-definition-ids"] = "Designer",
        ["POST /elsa/api/bulk-actions/delete/workflow-definitions/by-definition-id"] = "Designer",
        ["POST /elsa/api/bulk-actions/delete/workflow-definitions/by-id"] = "Designer",
        ["POST /elsa/api/workflow-definitions/{definitionId}/execute"] = "Operator",
        ["GET /elsa/api/workflow-definitions/{definitionId}/execute"] = "Operator",
        // Elsa API: descriptors, scripting, activity executions (all reads).
        ["POST /elsa/api/scripting/javascript/type-definitions/{definitionId}"] = "Viewer",
        ["GET /elsa/api/descriptors/activities"] = "Viewer",
        ["GET /elsa/api/descriptors/expression-descriptors"] = "Viewer",
        ["GET /elsa/api/descriptors/variables"] = "Viewer",
        ["GET /elsa/api/descriptors/storage-drivers"] = "Viewer",
        ["GET /elsa/api/descriptors/workflow-activation-strategies"] = "Viewer",
        ["GET /elsa/api/descriptors/incident-strategies"] = "Viewer",
        ["GET /elsa/api/descriptors/log-persistence-strategies"] = "Viewer",
        ["GET /elsa/api/descriptors/commit-strategies/workflows"] = "Viewer",
        ["GET /elsa/api/descriptors/commit-strategies/activities"] = "Viewer",
        ["GET /elsa/api/descriptors/output-converters"] = "Viewer",
        ["GET /elsa/api/features/installed"] = "Viewer",
        ["GET /elsa/api/package/version"] = "Viewer",
        ["GET /elsa/api/workflow-contexts/provider-descriptors"] = "Viewer",
        ["POST /elsa/api/activity-executions/report"] = "Viewer",
        ["GET /elsa/api/activity-executions/list"] = "Viewer",
        ["GET /elsa/api/activity-execution-summaries/list"] = "Viewer",
        ["GET /elsa/api/activity-executions/by-id"] = "Viewer",
        ["GET /elsa/api/activity-executions/{id}/call-stack"] = "Viewer",
        // Our API.
        ["GET /api/diagnostics/runtime"] = "Viewer",
        ["GET /api/conversations"] = "Viewer",
        ["GET /api/conversations/{key}"] = "Viewer",
        ["GET /api/handoffs"] = "Viewer",
        ["GET /api/handoffs/agents"] = "Viewer",
        ["POST /api/handoffs/{key}/assign"] = "Operator",
        ["POST /api/handoffs/{key}/reply"] = "Operator",
        ["POST /api/handoffs/{key}/return"] = "Operator",
        ["GET /api/templates"] = "Viewer",
        ["POST /api/templates/{id}/instantiate"] = "Designer",
        ["GET /api/devices"] = "Viewer",
        ["GET /api/devices/audit"] = "Viewer",
        ["GET /api/devices/{id}"] = "Viewer",
        ["GET /api/devices/{id}/state"] = "Viewer",
        ["POST /api/devices"] = "Designer",
        ["PUT /api/devices/{id}"] = "Designer",
        ["DELETE /api/devices/{id}"] = "Designer",
        ["POST /api/devices/{id}/commands"] = "Operator",
        ["GET /api/intents"] = "Viewer",
        ["GET /api/intents/{id}"] = "Viewer",
        ["POST /api/intents"] = "Designer",
        ["PUT /api/intents/{id}"] = "Designer",
        ["DELETE /api/intents/{id}"] = "Designer",
        ["POST /api/intents/{id}/test"] = "Viewer", // no side effects; input capped (H1)
        ["GET /api/packs"] = "Viewer",
        ["GET /api/packs/{id}"] = "Viewer",
        ["POST /api/packs"] = "Admin",
        ["POST /api/packs/inspect"] = "Admin", // reads a package without installing it
        ["POST /api/packs/{id}/enable"] = "Admin",
        ["POST /api/packs/{id}/disable"] = "Admin",
        ["DELETE /api/packs/{id}"] = "Admin",
        ["POST /api/test-console/messages"] = "Operator",
        ["GET /api/channels"] = "Viewer",
        ["GET /api/channels/{name}"] = "Viewer",
        ["POST /api/channels"] = "Admin", // channels hold tokens and secrets
        ["PUT /api/channels/{name}"] = "Admin",
        ["DELETE /api/channels/{name}"] = "Admin",
        ["GET /api/channels/{name}/health"] = "Viewer",
        ["POST /api/channels/{name}/test"] = "Operator", // goes through the outbox
        ["GET /api/attachments/{id}"] = "Viewer",
        ["POST /api/attachments"] = "Operator",
        ["GET /api/messages/inbox"] = "Viewer",
        ["GET /api/messages/outbox"] = "Viewer",
        ["GET /api/messages/outbox/{id}"] = "Viewer",
        ["POST /api/messages/outbox/{id}/retry"] = "Operator", // dead letters
        ["GET /api/data-sources"] = "Viewer",
        ["GET /api/data-sources/{name}"] = "Viewer",
        ["POST /api/data-sources"] = "Admin", // connection strings are secrets
        ["PUT /api/data-sources/{name}"] = "Admin",
        ["DELETE /api/data-sources/{name}"] = "Admin",
        ["POST /api/data-sources/{name}/test"] = "Designer",
        ["POST /api/data-sources/{name}/query"] = "Designer",
        ["GET /api/knowledge"] = "Viewer",
        ["POST /api/knowledge"] = "Designer",
        ["GET /api/knowledge/{name}"] = "Viewer",
        ["DELETE /api/knowledge/{name}"] = "Designer",
        ["GET /api/knowledge/{name}/search"] = "Viewer",
        ["PUT /api/knowledge/{name}/documents/{document}"] = "Designer",
        ["POST /api/knowledge/{name}/documents"] = "Designer",
        ["DELETE /api/knowledge/{name}/documents/{document}"] = "Designer",
        ["GET /api/keys"] = "Viewer", // users manage their own keys, an Admin all (ApiKeyOwnerTests)
        ["POST /api/keys"] = "Viewer",
        ["POST /api/keys/{id}/rotate"] = "Viewer",
        ["DELETE /api/keys/{id}"] = "Viewer",
        ["GET /api/audit"] = "Admin",
        ["POST /api/secrets/rotate"] = "Admin",
        ["GET /api/users"] = "Admin",
        ["POST /api/users"] = "Admin",
        ["DELETE /api/users/{id}"] = "Admin",
        ["PUT /api/users/{id}/disabled"] = "Admin",
        ["PUT /api/users/{id}/password"] = "Admin",
        ["PUT /api/users/{id}/role"] = "Admin",
        ["GET /api/auth/me"] = "Viewer",
        ["POST /api/auth/setup"] = OwnCheck, // a signed-in first-start-link session only (403 to everyone else)
        // Sign-in (anonymous by nature; rate limited, lockout per account).
        ["GET /api/auth/providers"] = Anonymous,
        ["GET /api/auth/sso"] = Anonymous,
        ["POST /api/auth/link"] = OwnCheck, // 401 without a valid one-time link
        ["POST /api/auth/signin"] = Anonymous,
        ["POST /api/auth/signout"] = Anonymous,
        // Anonymous surfaces (rate limited; signed where the channel signs).
        ["GET /health"] = Anonymous,
        ["GET /health/ready"] = Anonymous,
        ["GET /healthz"] = Anonymous,
        ["GET /readyz"] = Anonymous,
        ["GET /metrics"] = Metrics,
        ["* /http/{**path}"] = Anonymous,
        ["* /ws/chat"] = Anonymous,
        ["GET /chat"] = Anonymous,
        ["GET /chat/{file}"] = Anonymous,
        ["POST /chat/upload"] = Anonymous, // the conversation token is the credential
        ["GET /chat/files/{token}"] = Anonymous, // a link sealed with the platform key
        ["POST /channels/{name}/webhook"] = Anonymous,
        ["POST /channels/{name}/telegram/webhook"] = Anonymous,
        ["POST /channels/{name}/slack/events"] = Anonymous,
        ["POST /channels/{name}/slack/interactions"] = Anonymous,
        ["POST /channels/{name}/twilio/messages"] = Anonymous,
        ["POST /channels/{name}/twilio/status"] = Anonymous,
        ["GET /channels/{name}/whatsapp/webhook"] = Anonymous,
        ["POST /channels/{name}/whatsapp/webhook"] = Anonymous,
        ["POST /channels/{name}/discord/interactions"] = Anonymous,
        ["GET /channels/{name}/wechat"] = Anonymous,
        ["POST /channels/{name}/wechat"] = Anonymous,
        ["GET /channels/{name}/wecom"] = Anonymous,
        ["POST /channels/{name}/wecom"] = Anonymous,
        ["POST /channels/{name}/feishu/events"] = Anonymous,
        ["GET /openapi/{documentName}.json"] = Anonymous,
        ["GET /scalar/{documentName?}"] = Anonymous,
        ["GET /scalar/favicon.svg"] = Anonymous,
        ["GET /scalar/scalar.aspnetcore.js"] = Anonymous,
        ["GET /scalar/scalar.js"] = Anonymous,
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Answer_Each_Route_By_Role_When_Every_Role_Calls_Every_Mapped_Route()
    {
        // Arrange: every route the app maps.
        var routes = Routes();
        var unknown = routes.Where(r => r.Expected is null).Select(r => r.Key).ToList();
        Assert.True(unknown.Count == 0, "These routes are not in RoleMatrixTests.MinimumRole; add each with the least privileged role that may " +
                                        "call it (and apply that policy on the route):" + Environment.NewLine + string.Join(Environment.NewLine, unknown));
        var clients = RolesServerFixture.KeyOfRole.ToDictionary(p => p.Key, p => server.Client(p.Value));
        var failures = new List<string>();

        // Act and assert: each route with no key and with each role's key.
        foreach (var route in routes)
        {
            var callers = route.Expected switch
            {
                Anonymous or StudioAsset => (string[])["none"],
                OwnCheck => ["none", "Admin"],
                Metrics => ["Viewer", "Admin"],
                _ => ["none", .. Roles],
            };
            var statuses = await Task.WhenAll(callers.Select(caller => CallAsync(clients[caller], route.Method, route.Path)));
            for (var i = 0; i < callers.Length; i++)
            {
                var (status, body) = statuses[i];
                var wanted = Expected(route.Expected!, callers[i]);
                var ok = wanted switch
                {
                    HttpStatusCode.OK => status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.InternalServerError),
                    0 => (int)status < 500,
                    _ => status == wanted,
                };
                if (!ok)
                    failures.Add($"{route.Key} as {callers[i]}: expected {(wanted == HttpStatusCode.OK ? "neither 401 nor 403 (nor 500)" : wanted == 0 ? "no 5xx" : ((int)wanted).ToString())}, got {(int)status}: {Cut(body)}");
            }
        }
        foreach (var client in clients.Values) client.Dispose();

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Contains(routes, r => r.Key == "DELETE /api/keys/{id}"); // the enumeration found the routes
    }

    [Fact]
    public async Task Should_Name_The_Needed_Role_When_A_Role_Is_Refused()
    {
        // Arrange
        using var viewer = server.Client(RolesServerFixture.ViewerKey);

        // Act
        using var response = await viewer.PostAsync("/api/intents", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);

        // Assert
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("Viewer", problem.Str("title"));
        Assert.Contains("Designer", problem.Str("title"));
        Assert.Contains("POST /api/keys", problem.Str("detail"));
    }

    private static HttpStatusCode Expected(string minimum, string caller)
    {
        if (minimum is OwnCheck) return 0; // anything but a 5xx
        if (minimum is Anonymous or StudioAsset or Metrics) return HttpStatusCode.OK;
        if (caller == "none") return HttpStatusCode.Unauthorized;
        return Array.IndexOf(Roles, caller) >= Array.IndexOf(Roles, minimum) ? HttpStatusCode.OK : HttpStatusCode.Forbidden;
    }

    private List<Route> Routes()
    {
        var sources = server.Factory.Services.GetRequiredService<IEnumerable<EndpointDataSource>>();
        var list = new List<Route>();
        foreach (var endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern.RawText ?? "";
            if (!pattern.StartsWith('/')) pattern = "/" + pattern;
            if (pattern.Length > 1) pattern = pattern.TrimEnd('/');
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods
                .Where(m => m is not ("HEAD" or "OPTIONS")).ToList();
            var studio = endpoint.Metadata.OfType<Microsoft.AspNetCore.Authorization.IAllowAnonymous>().Any()
                         && endpoint.RequestDelegate?.Method.DeclaringType?.Assembly == typeof(Platform.Studio.StudioEndpointRouteBuilderExtensions).Assembly;
            foreach (var method in methods is { Count: > 0 } ? methods : ["*"])
            {
                var key = $"{method} {pattern}";
                list.Add(new Route(key, method == "*" ? "GET" : method, Fill(pattern), MinimumRole.GetValueOrDefault(key) ?? (studio ? StudioAsset : null)));
            }
        }
        return list.DistinctBy(r => r.Key).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
    }

    private static string Fill(string pattern) =>
        ParameterPattern().Replace(pattern, m => m.Groups[1].Value.Contains("version", StringComparison.OrdinalIgnoreCase) ? "1" : "x");

    private static async Task<(HttpStatusCode Status, string Body)> CallAsync(HttpClient client, string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static string Cut(string s) => s.Length > 200 ? s[..200] + "…" : s;

    [GeneratedRegex(@"\{\**([A-Za-z0-9_]+)[^}]*\}")]
    private static partial Regex ParameterPattern();

    private sealed record Route(string Key, string Method, string Path, string? Expected);
}
