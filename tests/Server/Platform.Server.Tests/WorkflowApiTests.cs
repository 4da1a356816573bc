using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>
/// The Elsa-compatible API as the Studio and API clients use it. Runs against SQLite and PostgreSQL
/// (<see cref="SqliteWorkflowApiTests"/>, <see cref="PostgresWorkflowApiTests"/>); every test creates its own definitions.
/// </summary>
public abstract class WorkflowApiTests(ServerFixture server)
{
    private HttpClient Admin => server.Admin;

    // ---- Auth ----

    [Fact]
    public async Task Should_Answer401WithHowTo_When_NoApiKeyIsSent()
    {
        using var anonymous = server.Factory.CreateClient(apiKey: null);
        using var response = await anonymous.GetAsync($"{Api}/workflow-definitions");
        var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("Authorization: ApiKey", problem.Str("detail"));
    }

    [Fact]
    public async Task Should_Answer401_When_ApiKeyIsWrong()
    {
        using var intruder = server.Factory.CreateClient("not-the-right-key-at-all-0000");
        using var response = await intruder.GetAsync($"{Api}/descriptors/activities");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Should_Answer401_When_SchemeIsNotApiKey()
    {
        using var client = server.Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", PlatformServerFactory.AdminKey);
        using var response = await client.GetAsync($"{Api}/workflow-definitions");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Should_Answer403_When_OperatorWrites()
    {
        // Arrange
        var definition = await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("operator")), publish: true);
        var id = definition.Str("definitionId");

        // Act / Assert: reads are fine…
        await server.Operator.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{id}");
        await server.Operator.PostJsonAsync($"{Api}/workflow-instances", new JsonObject());
        // …writes are not.
        using var save = await server.Operator.PostAsJsonAsync($"{Api}/workflow-definitions",
            new JsonObject { ["model"] = Workflows.HelloWorld("x"), ["publish"] = false });
        var problem = await save.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("Admin", problem.Str("detail"));
        using var execute = await server.Operator.PostAsJsonAsync($"{Api}/workflow-definitions/{id}/execute", new JsonObject());
        await execute.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var delete = await server.Operator.DeleteAsync($"{Api}/workflow-definitions/{id}");
        await delete.AssertProblemAsync(HttpStatusCode.Forbidden);
        await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{id}");
    }

    [Fact]
    public async Task Should_ReportProvider_When_HealthIsAskedAnonymously()
    {
        using var anonymous = server.Factory.CreateClient(apiKey: null);
        var health = await anonymous.GetJsonAsync("/health");
        Assert.Equal("Healthy", health.Str("status"));
        Assert.Equal(server.ProviderName, health.Str("database"));
    }

    [Fact]
    public async Task Should_ReportGcAndThreadPool_When_RuntimeDiagnosticsAreAskedWithAKey()
    {
        var runtime = await Admin.GetJsonAsync("/api/diagnostics/runtime");
        Assert.True(runtime["uptimeSeconds"]!.GetValue<double>() > 0);
        Assert.True(runtime["threadPoolThreads"]!.GetValue<int>() > 0);
        Assert.True(runtime["gcPauseTotalMs"]!.GetValue<double>() >= 0);
        Assert.True(runtime["allocatedMb"]!.GetValue<double>() > 0);
        Assert.True(runtime["cpuSeconds"]!.GetValue<double>() > 0);
        Assert.Equal(Environment.ProcessorCount, runtime["processorCount"]!.GetValue<int>());

        using var anonymous = server.Factory.CreateClient(apiKey: null);
        using var refused = await anonymous.GetAsync("/api/diagnostics/runtime");
        await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    // ---- Descriptors ----

    [Fact]
    public async Task Should_DescribeActivitiesInElsaShape_When_StudioLoadsThePalette()
    {
        var body = await Admin.GetJsonAsync($"{Api}/descriptors/activities?Refresh=True");
        var items = body["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        Assert.Equal(items.Count, body["count"]!.GetValue<int>());

        string[] activityFields = ["typeName", "namespace", "name", "version", "category", "displayName", "description", "inputs", "outputs",
            "kind", "ports", "customProperties", "constructionProperties", "isContainer", "isBrowsable", "isStart", "isTerminal"];
        string[] inputFields = ["name", "typeName", "displayName", "description", "order", "isBrowsable", "isSynthetic", "isWrapped", "uiHint",
            "category", "defaultValue", "defaultSyntax", "isReadOnly", "isSensitive", "storageDriverType", "uiSpecifications"];
        foreach (var d in items)
        {
            foreach (var f in activityFields) Assert.True(d.ContainsKey(f), $"{d.Str("typeName")} lacks '{f}'.");
            if (!d.Str("typeName").StartsWith("Platform.RecognizeIntent.", StringComparison.Ordinal))
                Assert.Equal(d.Str("typeName"), $"{d.Str("namespace")}.{d.Str("name")}");
            else // a per-set Recognize Intent type: its name is the node-name base the Studio numbers ("RecognizeIntentAssistant1")
                Assert.Matches("^[A-Z][A-Za-z0-9]*$", d.Str("name"));
            Assert.Contains(d.Str("kind"), (string[])["Action", "Trigger", "Task", "Job"]);
            foreach (var input in d["inputs"]!.AsArray())
            {
                foreach (var f in inputFields) Assert.True(input!.AsObject().ContainsKey(f), $"{d.Str("typeName")}.{input!.Str("name")} lacks '{f}'.");
                Assert.False(input!["isSynthetic"]!.GetValue<bool>());
                Assert.True(char.IsUpper(input.Str("name")[0]), "Input names are PascalCase as in Elsa.");
            }
            foreach (var port in d["ports"]!.AsArray())
            {
                Assert.Equal("Flow", port!.Str("type"));
                Assert.True(port!["isBrowsable"]!.GetValue<bool>());
            }
        }

        var byType = items.ToDictionary(i => i.Str("typeName"));
        Assert.True(byType["Elsa.Flowchart"]["isContainer"]!.GetValue<bool>());
        Assert.Empty(byType["Elsa.Flowchart"]["ports"]!.AsArray());
        Assert.True(byType["Elsa.Start"]["isStart"]!.GetValue<bool>());
        Assert.True(byType["Elsa.End"]["isTerminal"]!.GetValue<bool>());
        var text = byType["Elsa.WriteLine"]["inputs"]!.AsArray().Single(i => i!.Str("name") == "Text")!;
        Assert.Equal("String", text.Str("typeName"));
        Assert.Contains(byType["Elsa.WriteLine"]["ports"]!.AsArray(), p => p!.Str("name") == "Done");

        // Enum inputs are dropdowns with Elsa's selectList.
        var dropdown = items.SelectMany(i => i["inputs"]!.AsArray()).FirstOrDefault(i => i!.Str("uiHint") == "dropdown");
        Assert.NotNull(dropdown);
        var list = dropdown!["uiSpecifications"]!["dropdown"]!["selectList"]!;
        Assert.False(list["isFlagsEnum"]!.GetValue<bool>());
        Assert.NotEmpty(list["items"]!.AsArray());
        Assert.All(list["items"]!.AsArray(), i => Assert.False(string.IsNullOrEmpty(i!.Str("text")) || string.IsNullOrEmpty(i.Str("value"))));
    }

    [Theory]
    [InlineData("/descriptors/expression-descriptors", "items")]
    [InlineData("/descriptors/variables", "items")]
    [InlineData("/descriptors/storage-drivers", "items")]
    [InlineData("/descriptors/workflow-activation-strategies", "items")]
    [InlineData("/descriptors/incident-strategies", "items")]
    [InlineData("/descriptors/log-persistence-strategies", "items")]
    [InlineData("/descriptors/commit-strategies/workflows", "items")]
    [InlineData("/descriptors/commit-strategies/activities", "items")]
    [InlineData("/descriptors/output-converters", "items")]
    [InlineData("/features/installed", "items")]
    [InlineData("/workflow-contexts/provider-descriptors", "items")]
    [InlineData("/package/version", "packageVersion")]
    [InlineData("/workflow-definitions/query/count", "count")]
    public async Task Should_Answer200_When_StudioCallsAStartupEndpoint(string path, string field)
    {
        var body = await Admin.GetJsonAsync(Api + path);
        Assert.True(body.ContainsKey(field), $"{path} lacks '{field}': {body}");
    }

    [Fact]
    public async Task Should_OfferTheExpressionSyntaxes_When_StudioAsks()
    {
        var body = await Admin.GetJsonAsync($"{Api}/descriptors/expression-descriptors");
        var types = body["items"]!.AsArray().Select(i => i!.Str("type")).ToList();
        Assert.Equal(["Literal", "Object", "Variable", "JavaScript", "Liquid"], types);
        var variables = await Admin.GetJsonAsync($"{Api}/descriptors/variables");
        Assert.Contains(variables["items"]!.AsArray(), v => v!.Str("typeName") == "String" && v.Str("category") == "Primitives");
    }

    [Fact]
    public async Task Should_ServePlaceholderDescriptor_When_AStoredDefinitionUsesAnUnknownType()
    {
        // Arrange
        var type = $"Acme.Missing{Guid.NewGuid():N}.AskModel";
        var model = Workflows.WithUnknownActivity(Workflows.UniqueName("ghost"), type);
        model["root"]!["activities"]!.AsArray().Add(Workflows.Activity("write1", "Elsa.WriteLine"));
        model["root"]!["connections"]!.AsArray().Add(Workflows.Connect("ghost1", "write1", port: "Answered"));
        var definition = await Admin.SaveAsync(model, publish: false);

        // Act
        var body = await Admin.GetJsonAsync($"{Api}/descriptors/activities");

        // Assert: the canvas has a descriptor for every node, with the ports its connections use.
        var placeholder = body["items"]!.AsArray().Single(i => i!.Str("typeName") == type)!;
        Assert.False(placeholder["isBrowsable"]!.GetValue<bool>());
        Assert.Contains("not installed", placeholder.Str("description"));
        var ports = placeholder["ports"]!.AsArray().Select(p => p!.Str("name")).ToList();
        Assert.Contains("Answered", ports);
        Assert.Contains("Done", ports);

        // Executing it faults the instance with an incident instead of failing the request.
        var (instanceId, state) = await Admin.ExecuteAsync(definition.Str("definitionId"));
        Assert.Equal("Faulted", state.Str("subStatus"));
        Assert.NotEmpty(state["incidents"]!.AsArray());
        var instance = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal(1, instance["incidentCount"]!.GetValue<int>());
    }

    // ---- Definitions ----

    [Fact]
    public async Task Should_AssignNodeIdsAndFillDefaults_When_StudioSavesANewDefinition()
    {
        // Arrange: what the Studio posts for a new workflow with one dropped activity, nulls included.
        var model = new JsonObject
        {
            ["name"] = Workflows.UniqueName("new"),
            ["options"] = null, ["variables"] = null, ["inputs"] = null, ["outputs"] = null, ["outcomes"] = null, ["customProperties"] = null,
            ["root"] = new JsonObject
            {
                ["type"] = "Elsa.Flowchart", ["id"] = "root1",
                ["activities"] = new JsonArray(new JsonObject { ["type"] = "Elsa.WriteLine", ["id"] = "w1", ["metadata"] = null }),
                ["connections"] = null,
            },
        };

        // Act
        var saved = await Admin.SaveAsync(model, publish: false);

        // Assert
        Assert.Equal("Workflow1:root1", saved["root"]!.Str("nodeId"));
        var child = saved["root"]!["activities"]![0]!;
        Assert.Equal("Workflow1:root1:w1", child.Str("nodeId"));
        Assert.IsType<JsonObject>(child["metadata"]);
        Assert.IsType<JsonObject>(child["customProperties"]);
        Assert.IsType<JsonArray>(saved["root"]!["connections"]);
        foreach (var key in (string[])["variables", "inputs", "outputs", "outcomes"]) Assert.IsType<JsonArray>(saved[key]);
        Assert.IsType<JsonObject>(saved["customProperties"]);
        Assert.Equal("Elsa.Workflows.ActivationStrategies.AllowAlways", saved["options"]!.Str("activationStrategyType"));
        Assert.Equal(1, saved["version"]!.GetValue<int>());
        Assert.False(saved["isPublished"]!.GetValue<bool>());
        Assert.Contains(saved["links"]!.AsArray(), l => l!.Str("rel") == "publish");

        // The definition reads back the same way, by definition id and by version id.
        var byDefinition = await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{saved.Str("definitionId")}?VersionOptions=Latest");
        Assert.Equal("Workflow1:root1:w1", byDefinition["root"]!["activities"]![0]!.Str("nodeId"));
        var byId = await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-id/{saved.Str("id")}");
        Assert.Equal(saved.Str("definitionId"), byId.Str("definitionId"));
    }

    [Fact]
    public async Task Should_AssignIds_When_ModelHasNoRootOrActivityIds()
    {
        var saved = await Admin.SaveAsync(new JsonObject { ["name"] = Workflows.UniqueName("bare") }, publish: false);
        Assert.Equal("Elsa.Flowchart", saved["root"]!.Str("type"));
        Assert.StartsWith("Workflow1:", saved["root"]!.Str("nodeId"));
    }

    [Fact]
    public async Task Should_CreateVersion2_When_SavingADraftOverThePublishedVersion()
    {
        // Arrange
        var name = Workflows.UniqueName("versions");
        var v1 = await Admin.SaveAsync(Workflows.HelloWorld(name), publish: true);
        var id = v1.Str("definitionId");
        Assert.True(v1["isPublished"]!.GetValue<bool>());

        // Act: the Studio auto-saves an edit.
        var edit = Workflows.HelloWorld(name);
        edit["definitionId"] = id;
        var v2 = await Admin.SaveAsync(edit, publish: false);

        // Assert
        Assert.Equal(2, v2["version"]!.GetValue<int>());
        Assert.False(v2["isPublished"]!.GetValue<bool>());
        var published = await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{id}?versionOptions=Published");
        Assert.Equal(1, published["version"]!.GetValue<int>());
        var all = await Admin.GetJsonAsync($"{Api}/workflow-definitions?versionOptions=All&definitionIds={id}");
        Assert.Equal(2, all["totalCount"]!.GetValue<int>());

        // Publishing v2 unpublishes v1; publishing again says so.
        var publish = await Admin.PostJsonAsync($"{Api}/workflow-definitions/{id}/publish", null);
        Assert.Equal(2, publish["workflowDefinition"]!["version"]!.GetValue<int>());
        Assert.False(publish["alreadyPublished"]!.GetValue<bool>());
        var again = await Admin.PostJsonAsync($"{Api}/workflow-definitions/{id}/publish", null);
        Assert.True(again["alreadyPublished"]!.GetValue<bool>());
        var oldOne = await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-id/{v1.Str("id")}");
        Assert.False(oldOne["isPublished"]!.GetValue<bool>());

        // Retract, then retracting again is a 400 that says why.
        var retracted = await Admin.PostJsonAsync($"{Api}/workflow-definitions/{id}/retract", null);
        Assert.False(retracted["isPublished"]!.GetValue<bool>());
        using var twice = await Admin.PostAsync($"{Api}/workflow-definitions/{id}/retract", null);
        await twice.AssertProblemAsync(HttpStatusCode.BadRequest);

        // Revert to version 1 copies it into the latest draft.
        var reverted = await Admin.PostJsonAsync($"{Api}/workflow-definitions/{id}/revert/1", null);
        Assert.True(reverted["isLatest"]!.GetValue<bool>());
        Assert.False(reverted["isPublished"]!.GetValue<bool>());
        Assert.Equal(v1["root"]!.ToJsonString(), reverted["root"]!.ToJsonString());

        // Delete one version, then the whole definition.
        using var deleteVersion = await Admin.DeleteAsync($"{Api}/workflow-definitions/by-id/{v1.Str("id")}");
        Assert.Equal(HttpStatusCode.NoContent, deleteVersion.StatusCode);
        using var delete = await Admin.DeleteAsync($"{Api}/workflow-definitions/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await Admin.GetAsync($"{Api}/workflow-definitions/by-definition-id/{id}");
        await gone.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_ListSummariesWithLinks_When_StudioOpensTheDefinitionList()
    {
        // Arrange
        var prefix = $"list-{Guid.NewGuid():N}";
        var a = await Admin.SaveAsync(Workflows.HelloWorld($"{prefix} A"), publish: true);
        await Admin.SaveAsync(Workflows.HelloWorld($"{prefix} B"), publish: false);

        // Act
        var page = await Admin.GetJsonAsync($"{Api}/workflow-definitions?Page=0&PageSize=10&VersionOptions=Latest&searchTerm={prefix}");

        // Assert
        Assert.Equal(2, page["totalCount"]!.GetValue<int>());
        Assert.Contains(page["links"]!.AsArray(), l => l!.Str("rel") == "bulk-publish");
        var first = page["items"]![0]!;
        Assert.Equal(a.Str("definitionId"), first.Str("definitionId"));
        foreach (var f in (string[])["id", "definitionId", "name", "createdAt", "version", "isLatest", "isPublished", "materializerName", "links"])
            Assert.True(first.AsObject().ContainsKey(f), $"The summary lacks '{f}'.");
        Assert.Equal(["self", "execute", "publish", "retract", "delete"], first["links"]!.AsArray().Select(l => l!.Str("rel")));

        var secondPage = await Admin.GetJsonAsync($"{Api}/workflow-definitions?page=1&pageSize=1&searchTerm={prefix}&orderBy=Name&orderDirection=Descending");
        Assert.Equal($"{prefix} A", secondPage["items"]![0]!.Str("name"));

        // Name uniqueness ignores the definition itself.
        var unique = await Admin.GetJsonAsync($"{Api}/workflow-definitions/validation/is-name-unique?name={Uri.EscapeDataString($"{prefix} A")}");
        Assert.False(unique["isUnique"]!.GetValue<bool>());
        var own = await Admin.GetJsonAsync($"{Api}/workflow-definitions/validation/is-name-unique?name={Uri.EscapeDataString($"{prefix} A")}&definitionId={a.Str("definitionId")}");
        Assert.True(own["isUnique"]!.GetValue<bool>());
        var consumers = await Admin.GetJsonAsync($"{Api}/workflow-definitions/{a.Str("definitionId")}/consumers");
        Assert.Empty(consumers["consumingWorkflowDefinitionIds"]!.AsArray());
    }

    [Fact]
    public async Task Should_PublishAndDeleteInBulk_When_StudioUsesBulkActions()
    {
        var a = (await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("bulk")), publish: false)).Str("definitionId");
        var b = (await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("bulk")), publish: true)).Str("definitionId");

        var published = await Admin.PostJsonAsync($"{Api}/bulk-actions/publish/workflow-definitions/by-definition-ids",
            new JsonObject { ["definitionIds"] = new JsonArray(a, b, "no-such-definition") });
        Assert.Equal([a], published["published"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal([b], published["alreadyPublished"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(["no-such-definition"], published["notFound"]!.AsArray().Select(x => x!.GetValue<string>()));

        var deleted = await Admin.PostJsonAsync($"{Api}/bulk-actions/delete/workflow-definitions/by-definition-id",
            new JsonObject { ["definitionIds"] = new JsonArray(a, b) });
        Assert.Equal(2, deleted["deleted"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_RoundTrip_When_ExportedAndImported()
    {
        // Arrange
        var original = await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("Export Me")), publish: true);
        var id = original.Str("definitionId");

        // Act: export…
        using var export = await Admin.GetAsync($"{Api}/workflow-definitions/{id}/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/json", export.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith(".json", export.Content.Headers.ContentDisposition?.FileNameStar ?? export.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.StartsWith("export-me-", export.Content.Headers.ContentDisposition?.FileNameStar ?? export.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var file = JsonNode.Parse(await export.Content.ReadAsStringAsync())!.AsObject();
        Assert.False(file.ContainsKey("links"));

        // …delete, and import the file.
        using (await Admin.DeleteAsync($"{Api}/workflow-definitions/{id}")) { }
        using var import = await Admin.PostRawAsync($"{Api}/workflow-definitions/import", file.ToJsonString());
        var imported = await import.ReadJsonAsync(HttpStatusCode.OK);

        // Assert
        Assert.Equal(id, imported.Str("definitionId"));
        Assert.Equal(original.Str("name"), imported.Str("name"));
        Assert.True(imported["isPublished"]!.GetValue<bool>());
        Assert.Equal(original["root"]!.ToJsonString(), imported["root"]!.ToJsonString());
        Assert.Equal(original["variables"]!.ToJsonString(), imported["variables"]!.ToJsonString());
        var (_, state) = await Admin.ExecuteAsync(id, "Published");
        Assert.Equal("Finished", state.Str("subStatus"));
    }

    [Fact]
    public async Task Should_ImportUploadedFiles_When_StudioUploadsJson()
    {
        var model = Workflows.HelloWorld(Workflows.UniqueName("upload"));
        model["definitionId"] = $"upload-{Guid.NewGuid():N}";
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(model.ToJsonString(), Encoding.UTF8, "application/json"), "files", "upload.json");
        using var response = await Admin.PostAsync($"{Api}/workflow-definitions/import-files", form);
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, body["count"]!.GetValue<int>());
        await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{model.Str("definitionId")}");
    }

    [Fact]
    public async Task Should_ImportEveryWorkflowFile_When_TheRepositoryShipsWorkflows()
    {
        var folder = TestPaths.InRepo("workflows");
        var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.json") : [];
        foreach (var path in files)
        {
            var json = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
            using var response = await Admin.PostRawAsync($"{Api}/workflow-definitions/import", json.ToJsonString());
            var imported = await response.ReadJsonAsync(HttpStatusCode.OK);
            var definition = await Admin.GetJsonAsync($"{Api}/workflow-definitions/by-id/{imported.Str("id")}");
            Assert.All(DefinitionNodes(definition["root"]!.AsObject()), n => Assert.StartsWith("Workflow1:", n.Str("nodeId")));
        }
    }

    // ---- Running ----

    [Fact]
    public async Task Should_RunAndJournalInOrder_When_StudioExecutesTheDefinition()
    {
        // Arrange
        var definition = await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("run")), publish: false);
        var id = definition.Str("definitionId");

        // Act
        var (instanceId, state) = await Admin.ExecuteAsync(id, "Latest");

        // Assert: a finished instance of THIS definition…
        Assert.Equal(instanceId, state.Str("id"));
        Assert.Equal(id, state.Str("definitionId"));
        Assert.Equal(definition.Str("id"), state.Str("definitionVersionId"));
        Assert.Equal("Finished", state.Str("status"));
        Assert.Equal("Finished", state.Str("subStatus"));
        var instance = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal("Finished", instance["workflowState"]!.Str("subStatus"));
        foreach (var f in (string[])["bookmarks", "incidents", "completionCallbacks", "activityExecutionContexts", "input", "output", "properties"])
            Assert.True(instance["workflowState"]!.AsObject().ContainsKey(f), $"workflowState lacks '{f}'.");

        // …whose journal lists the activities in the order they ran, inside the root flowchart.
        var journal = await Admin.PostJsonAsync($"{Api}/workflow-instances/{instanceId}/journal?skip=0&take=110", new JsonObject());
        var records = journal["items"]!.AsArray().Select(r => r!.AsObject()).ToList();
        Assert.Equal(records.Count, journal["totalCount"]!.GetValue<int>());
        Assert.Equal(
            ["flow1:Started", "start1:Started", "start1:Completed", "write1:Started", "write1:Completed", "set1:Started", "set1:Completed",
             "end1:Started", "end1:Completed", "flow1:Completed"],
            records.Select(r => $"{r.Str("activityId")}:{r.Str("eventName")}"));
        Assert.Equal(Enumerable.Range(0, records.Count), records.Select(r => r["sequence"]!.GetValue<int>()));
        Assert.Equal("Workflow1:flow1", records[0].Str("nodeId"));
        Assert.Null(records[0]["parentActivityInstanceId"]);
        Assert.Equal("Workflow1:flow1:write1", records[3].Str("nodeId"));
        Assert.Equal(records[0].Str("activityInstanceId"), records[3].Str("parentActivityInstanceId"));

        // Paging with skip/take from the body, and a GET variant.
        var page = await Admin.PostJsonAsync($"{Api}/workflow-instances/{instanceId}/journal", new JsonObject { ["skip"] = 2, ["take"] = 3 });
        Assert.Equal(3, page["items"]!.AsArray().Count);
        Assert.Equal(2, page["items"]![0]!["sequence"]!.GetValue<int>());
        var viaGet = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}/journal?Skip=0&Take=1");
        Assert.Single(viaGet["items"]!.AsArray());

        var executionState = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}/execution-state");
        Assert.Equal("Finished", executionState.Str("status"));
        Assert.Equal("Finished", executionState.Str("workflowSubStatus"));
    }

    [Fact]
    public async Task Should_ShowVariablesAndActivityExecutions_When_SetVariableAndWriteLineRan()
    {
        // Arrange
        var definition = await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("vars")), publish: true);
        var (instanceId, _) = await Admin.ExecuteAsync(definition.Str("definitionId"), "Published");

        // Act
        var variables = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}/variables");

        // Assert
        var greeting = variables["items"]!.AsArray().Single(v => v!.Str("name") == "greeting")!;
        Assert.Equal("var-greeting", greeting.Str("id"));
        Assert.Equal("hi there", greeting.Str("value"));

        var report = await Admin.PostJsonAsync($"{Api}/activity-executions/report",
            new JsonObject { ["workflowInstanceId"] = instanceId, ["activityIds"] = new JsonArray("write1", "set1") });
        var stats = report["stats"]!.AsArray();
        Assert.Equal(2, stats.Count);
        Assert.All(stats, s =>
        {
            Assert.Equal(1, s!["startedCount"]!.GetValue<int>());
            Assert.Equal(1, s["completedCount"]!.GetValue<int>());
            Assert.False(s["isFaulted"]!.GetValue<bool>());
        });

        var list = await Admin.GetJsonAsync($"{Api}/activity-executions/list?WorkflowInstanceId={instanceId}&ActivityNodeId=Workflow1:flow1:write1");
        var record = list["items"]!.AsArray().Single()!;
        Assert.Equal("Elsa.WriteLine", record.Str("activityType"));
        Assert.Equal("Completed", record.Str("status"));
        Assert.True(record.AsObject().ContainsKey("activityState"));
        var summaries = await Admin.GetJsonAsync($"{Api}/activity-execution-summaries/list?workflowInstanceId={instanceId}&activityNodeId=Workflow1:flow1:write1");
        Assert.False(summaries["items"]![0]!.AsObject().ContainsKey("activityState"));
        var byId = await Admin.GetJsonAsync($"{Api}/activity-executions/by-id?id={record.Str("id")}");
        Assert.Equal(record.Str("id"), byId.Str("id"));
        var callStack = await Admin.GetJsonAsync($"{Api}/activity-executions/{record.Str("id")}/call-stack");
        Assert.Equal(record.Str("id"), callStack.Str("activityExecutionId"));
        // The root flowchart is not journaled; the API answers with a record that stands for it (the viewer's "Status").
        var root = await Admin.GetJsonAsync($"{Api}/activity-executions/list?workflowInstanceId={instanceId}&activityNodeId=Workflow1:flow1");
        Assert.Equal("Elsa.Flowchart", Assert.Single(root["items"]!.AsArray())!.Str("activityType"));
    }

    [Fact]
    public async Task Should_CancelTheInstance_When_ItIsSuspendedOnADelay()
    {
        // Arrange
        var definition = await Admin.SaveAsync(Workflows.WaitAnHour(Workflows.UniqueName("delay")), publish: true);
        var (instanceId, state) = await Admin.ExecuteAsync(definition.Str("definitionId"), "Published");
        Assert.Equal("Suspended", state.Str("subStatus"));
        Assert.Single(state["bookmarks"]!.AsArray());
        var journal = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}/journal");
        Assert.Contains(journal["items"]!.AsArray(), r => r!.Str("activityId") == "delay1" && r.Str("eventName") == "Suspended");
        var report = await Admin.PostJsonAsync($"{Api}/activity-executions/report", new JsonObject { ["workflowInstanceId"] = instanceId });
        Assert.Contains(report["stats"]!.AsArray(), s => s!.Str("activityId") == "delay1" && s!["isBlocked"]!.GetValue<bool>());

        // Act
        var cancelled = await Admin.PostJsonAsync($"{Api}/workflow-instances/{instanceId}/cancel", null);

        // Assert
        Assert.Equal("Cancelled", cancelled.Str("subStatus"));
        var instance = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal("Finished", instance.Str("status"));
        Assert.Equal("Cancelled", instance.Str("subStatus"));
        using var again = await Admin.PostAsync($"{Api}/workflow-instances/{instanceId}/cancel", null);
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Should_FilterAndDeleteInstances_When_ListedByDefinitionAndStatus()
    {
        // Arrange: two finished runs and one suspended run of two definitions.
        var done = (await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("filter")), publish: true)).Str("definitionId");
        var waiting = (await Admin.SaveAsync(Workflows.WaitAnHour(Workflows.UniqueName("filter")), publish: true)).Str("definitionId");
        var (first, _) = await Admin.ExecuteAsync(done, "Published");
        var (second, _) = await Admin.ExecuteAsync(done, "Published");
        var (suspended, _) = await Admin.ExecuteAsync(waiting, "Published");

        // Act / Assert: the list body filter (the Studio's) and the query variant.
        var byDefinition = await Admin.PostJsonAsync($"{Api}/workflow-instances", new JsonObject { ["definitionId"] = done, ["page"] = 0, ["pageSize"] = 10 });
        Assert.Equal(2, byDefinition["totalCount"]!.GetValue<int>());
        Assert.Equal([second, first], byDefinition["items"]!.AsArray().Select(i => i!.Str("id")));
        var bySubStatus = await Admin.PostJsonAsync($"{Api}/workflow-instances",
            new JsonObject { ["definitionIds"] = new JsonArray(done, waiting), ["subStatuses"] = new JsonArray("Suspended") });
        Assert.Equal([suspended], bySubStatus["items"]!.AsArray().Select(i => i!.Str("id")));
        var viaQuery = await Admin.GetJsonAsync($"{Api}/workflow-instances?definitionId={done}&status=Finished&orderDirection=Ascending");
        Assert.Equal([first, second], viaQuery["items"]!.AsArray().Select(i => i!.Str("id")));

        // Delete one, bulk-cancel and bulk-delete the rest.
        using var delete = await Admin.DeleteAsync($"{Api}/workflow-instances/{first}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await Admin.GetAsync($"{Api}/workflow-instances/{first}");
        await gone.AssertProblemAsync(HttpStatusCode.NotFound);
        var cancelled = await Admin.PostJsonAsync($"{Api}/bulk-actions/cancel/workflow-instances/by-id", new JsonObject { ["ids"] = new JsonArray(suspended, second) });
        Assert.Equal(1, cancelled["cancelled"]!.GetValue<int>());
        var deleted = await Admin.PostJsonAsync($"{Api}/bulk-actions/delete/workflow-instances/by-id", new JsonObject { ["ids"] = new JsonArray(second, suspended) });
        Assert.Equal(2, deleted["deleted"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_AcceptQueryParameters_When_ExecutedWithGet()
    {
        var id = (await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("get-exec")), publish: false)).Str("definitionId");
        var input = Uri.EscapeDataString("{\"who\":\"world\"}");
        using var response = await Admin.GetAsync($"{Api}/workflow-definitions/{id}/execute?VersionOptions=Latest&CorrelationId=corr-1&Input={input}");
        var body = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("corr-1", body["workflowState"]!.Str("correlationId"));
        Assert.Equal("world", body["workflowState"]!["input"]!.Str("who"));
        Assert.True(response.Headers.Contains("x-elsa-workflow-instance-id"));
    }

    // ---- Bad input ----

    [Fact]
    public async Task Should_Answer400_When_JsonIsMalformed()
    {
        using var response = await Admin.PostRawAsync($"{Api}/workflow-definitions", "{\"model\": {\"name\": ");
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("JSON", problem.Str("title"));
        using var list = await Admin.PostRawAsync($"{Api}/workflow-instances", "[1,2");
        await list.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var import = await Admin.PostRawAsync($"{Api}/workflow-definitions/import", "not json");
        await import.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("{\"model\": {\"root\": {\"type\": 5, \"id\": \"r\"}}}", "model.root.type")]
    [InlineData("{\"model\": {\"root\": {\"type\": \"Elsa.Flowchart\", \"activities\": {\"a\": 1}}}}", "model.root.activities")]
    [InlineData("{\"model\": {\"root\": {\"type\": \"Elsa.Flowchart\", \"connections\": [{\"source\": \"a\"}]}}}", "model.root.connections[0].source")]
    [InlineData("{\"model\": {\"variables\": \"x\"}}", "model.variables")]
    [InlineData("{\"model\": {\"name\": \"x\"}, \"publish\": \"yes\"}", "publish")]
    [InlineData("{\"model\": []}", "model")]
    public async Task Should_Answer400WithThePath_When_TheModelIsMalformed(string body, string path)
    {
        using var response = await Admin.PostRawAsync($"{Api}/workflow-definitions", body);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(path, problem.ToJsonString());
    }

    [Theory]
    [InlineData("/workflow-definitions/by-definition-id/{def}?versionOptions=Newest")]
    [InlineData("/workflow-definitions?versionOptions=Sometimes")]
    [InlineData("/workflow-instances?status=Sleeping")]
    [InlineData("/workflow-instances?subStatus=3")]
    [InlineData("/workflow-instances?orderBy=Colour")]
    [InlineData("/workflow-instances?pageSize=0")]
    [InlineData("/workflow-definitions?page=-1")]
    [InlineData("/workflow-instances?page=abc")]
    [InlineData("/activity-executions/list")]
    public async Task Should_Answer400_When_AQueryValueIsInvalid(string path)
    {
        using var response = await Admin.GetAsync(Api + path.Replace("{def}", "whatever"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Should_Answer400_When_ExecuteVersionOptionsIsInvalid()
    {
        var id = (await Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("bad-vo")), publish: false)).Str("definitionId");
        using var response = await Admin.PostAsJsonAsync($"{Api}/workflow-definitions/{id}/execute", new JsonObject { ["versionOptions"] = "Tomorrow" });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Latest", problem.Str("detail"));
        using var status = await Admin.PostRawAsync($"{Api}/workflow-instances", "{\"statuses\": [\"Sleeping\"]}");
        await status.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("GET", "/workflow-definitions/by-definition-id/no-such-definition")]
    [InlineData("GET", "/workflow-definitions/by-id/no-such-version")]
    [InlineData("GET", "/workflow-definitions/no-such-definition/export")]
    [InlineData("GET", "/workflow-definitions/no-such-definition/consumers")]
    [InlineData("POST", "/workflow-definitions/no-such-definition/publish")]
    [InlineData("POST", "/workflow-definitions/no-such-definition/retract")]
    [InlineData("POST", "/workflow-definitions/no-such-definition/execute")]
    [InlineData("POST", "/workflow-definitions/no-such-definition/revert/1")]
    [InlineData("DELETE", "/workflow-definitions/no-such-definition")]
    [InlineData("DELETE", "/workflow-definitions/by-id/no-such-version")]
    [InlineData("GET", "/workflow-instances/no-such-instance")]
    [InlineData("GET", "/workflow-instances/no-such-instance/execution-state")]
    [InlineData("GET", "/workflow-instances/no-such-instance/variables")]
    [InlineData("POST", "/workflow-instances/no-such-instance/journal")]
    [InlineData("POST", "/workflow-instances/no-such-instance/cancel")]
    [InlineData("DELETE", "/workflow-instances/no-such-instance")]
    [InlineData("GET", "/activity-executions/by-id?id=no-such-record")]
    [InlineData("GET", "/activity-executions/no-such-record/call-stack")]
    [InlineData("GET", "/no-such-endpoint")]
    public async Task Should_Answer404_When_TheIdIsUnknown(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Api + path);
        using var response = await Admin.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_Answer413_When_TheBodyIsTooLarge()
    {
        var huge = "{\"model\": {\"name\": \"" + new string('x', 11 * 1024 * 1024) + "\"}}";
        using var response = await Admin.PostRawAsync($"{Api}/workflow-definitions", huge);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Should_Answer413_When_AChunkedBodyIsTooLarge()
    {
        var huge = "{\"model\": {\"name\": \"" + new string('x', 11 * 1024 * 1024) + "\"}}";
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Api}/workflow-definitions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Admin.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Should_Answer415_When_TheBodyIsNotJson()
    {
        using var response = await Admin.PostAsync($"{Api}/workflow-definitions", new StringContent("model=1", Encoding.UTF8, "text/plain"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    private static IEnumerable<JsonObject> DefinitionNodes(JsonObject activity)
    {
        yield return activity;
        foreach (var child in activity["activities"]?.AsArray() ?? [])
        foreach (var n in DefinitionNodes(child!.AsObject()))
            yield return n;
    }
}

/// <summary>The API on SQLite.</summary>
public sealed class SqliteWorkflowApiTests(SqliteServerFixture server) : WorkflowApiTests(server), IClassFixture<SqliteServerFixture>;

/// <summary>The API on PostgreSQL.</summary>
public sealed class PostgresWorkflowApiTests(PostgresServerFixture server) : WorkflowApiTests(server), IClassFixture<PostgresServerFixture>;
