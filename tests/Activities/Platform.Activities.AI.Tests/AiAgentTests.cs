using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Data;
using Platform.Activities.Devices;
using Platform.Server.Demo;
using Platform.Server.Extensions;
using Platform.Testing.Fakes;

namespace Platform.Activities.AI.Tests;

/// <summary>The AI Agent end to end: web chat message → agent → tools (real SQLite data source, device registry) → reply.</summary>
public sealed class AiAgentTests
{
    private static JsonObject Js(string script) => new() { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script } };

    private static JsonObject Connect(string from, string port, string to) => new()
    {
        ["source"] = new JsonObject { ["activity"] = from, ["port"] = port }, ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" },
    };

    private static JsonObject Node(string id, string type, params (string Name, JsonNode Value)[] inputs)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1 };
        foreach (var (name, value) in inputs) node[name] = value;
        return node;
    }

    private static Dictionary<string, string?> Models(Uri endpoint, string apiKey, string model = "gpt-4o-mini", string name = "default") => new()
    {
        [$"Platform:AI:Models:{name}:Endpoint"] = endpoint.ToString(),
        [$"Platform:AI:Models:{name}:Model"] = model,
        [$"Platform:AI:Models:{name}:ApiKey"] = apiKey,
        [$"Platform:AI:Models:{name}:Retries"] = "1",
        [$"Platform:AI:Models:{name}:RetryDelay"] = "00:00:00.010",
    };

    private static AiHost Host(Dictionary<string, string?> settings) => new(settings, (services, configuration, dir) =>
    {
        services.AddPlatformData(configuration, dir);
        services.AddDevices(new DevicesOptions { DataDirectory = dir, SeedDemoDevices = true });
        services.AddPlatformAgent(configuration);
    });

    /// <summary>Creates the demo shop as a SQLite data source of this test; returns its name and the number of orders.</summary>
    private static async Task<(string Name, long Orders)> ShopAsync(AiHost host)
    {
        var path = Path.Combine(host.Directory, "shop.db");
        long orders;
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = DemoShop.Sql(DateTimeOffset.UtcNow, DataSourceProviderKind.Sqlite);
            await command.ExecuteNonQueryAsync();
            command.CommandText = "SELECT COUNT(*) FROM orders";
            orders = (long)(await command.ExecuteScalarAsync())!;
        }
        SqliteConnection.ClearAllPools();
        var name = "shop" + Guid.NewGuid().ToString("N")[..8];
        await host.Services.GetRequiredService<IDataSourceStore>().SaveAsync(new DataSource
        {
            Name = name, Provider = DataSourceProviderKind.Sqlite, ConnectionString = $"Data Source={path}",
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        });
        return (name, orders);
    }

    /// <summary>Message → AI Agent → Done: reply the answer; NeedsConfirmation: reply the question; Failed/Timeout: a clear apology.</summary>
    private static Task<string> PublishAgentAsync(AiHost host, string tools, string instructions = "You are the shop's assistant.", string model = "default") =>
        ChatDriver.PublishAsync(host, "agent-" + Guid.NewGuid().ToString("N")[..8], new JsonArray(
            Node("received", "Platform.MessageReceived"),
            Node("agent", "Platform.AiAgent", ("model", AiHost.Literal(model)), ("instructions", AiHost.Literal(instructions)), ("tools", AiHost.Literal(tools))),
            Node("answer", "Platform.SendReply", ("text", Js("getOutput('agent', 'Answer')"))),
            Node("confirm", "Platform.SendReply", ("text", Js("getOutput('agent', 'Answer') + ' [pending: ' + getOutput('agent', 'PendingAction').command + ']'"))),
            Node("sorry", "Platform.SendReply", ("text", AiHost.Literal("Sorry, the assistant is not available right now. Please try again later.")))),
            new JsonArray(Connect("received", "Done", "agent"), Connect("agent", "Done", "answer"), Connect("agent", "NeedsConfirmation", "confirm"),
                Connect("agent", "Failed", "sorry"), Connect("agent", "Timeout", "sorry")));

    private static string? ToolResult(JsonArray messages) =>
        messages.LastOrDefault(m => m?["role"]?.GetValue<string>() == "tool")?["content"]?.ToString();

    [Fact]
    public async Task Should_AnswerWithTheDatabaseFigure_When_TheAgentQueriesTheShopDatabase()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        var (shop, orders) = await ShopAsync(host);
        server.Reply = (messages, _) => ToolResult(messages) is { } result
            ? FakeOpenAiReply.Text($"The shop has {JsonNode.Parse(result)!["rows"]![0]!["n"]} orders in total.")
            : FakeOpenAiReply.Calls(("query_database", JsonSerializer.Serialize(new { dataSource = shop, sql = "SELECT COUNT(*) AS n FROM orders" })));
        var chat = new ChatDriver(host, await PublishAgentAsync(host, "[\"query_database\"]"));

        // Act
        var replies = await chat.SayAsync("How many orders do we have?");

        // Assert: the figure comes from the real database, through a tool round trip shaped as the API shapes it.
        Assert.Equal([$"The shop has {orders} orders in total."], replies);
        Assert.Equal(2, server.Conversations.Count);
        var first = server.Requests[0].Json!;
        var tool = Assert.Single(first["tools"]!.AsArray())!;
        Assert.Equal("function", tool["type"]!.GetValue<string>());
        Assert.Equal("query_database", tool["function"]!["name"]!.GetValue<string>());
        Assert.Equal("object", tool["function"]!["parameters"]!["type"]!.GetValue<string>());
        var second = server.Conversations[1];
        var assistant = second.Single(m => m!["role"]!.GetValue<string>() == "assistant")!;
        var callId = assistant["tool_calls"]![0]!["id"]!.GetValue<string>();
        var toolMessage = second.Single(m => m!["role"]!.GetValue<string>() == "tool")!;
        Assert.Equal(callId, toolMessage["tool_call_id"]!.GetValue<string>());
        Assert.Equal("How many orders do we have?", second.First(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.ToString());
        // Every model call and tool call is journaled.
        var record = await JournalAsync(host, chat.Instance!.Id);
        var steps = JsonSerializer.Serialize(record.Payload["steps"]);
        Assert.Contains("\"type\":\"tool\"", steps);
        Assert.Contains("\"tool\":\"query_database\"", steps);
        Assert.Contains("inputTokens", steps);
    }

    [Fact]
    public async Task Should_AskTheUserToConfirm_When_TheAgentWantsToUnlockTheFrontDoor()
    {
        // Arrange: the demo owner may unlock the high-risk front door lock, after confirming.
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        server.Reply = (_, _) => FakeOpenAiReply.Calls(("control_device", "{\"device\":\"front door\",\"command\":\"unlock\"}"));
        var chat = new ChatDriver(host, await PublishAgentAsync(host, "[\"control_device\",\"get_device_state\"]")) { Sender = DemoDevices.DemoOwner };

        // Act
        var replies = await chat.SayAsync("Please open the front door");

        // Assert: the agent stopped at the confirmation and the workflow asked the user; nothing was sent to the lock.
        var reply = Assert.Single(replies);
        Assert.Contains("Please confirm", reply);
        Assert.Contains("[pending: unlock]", reply);
        Assert.Single(server.Requests);
        Assert.Equal(2, server.Requests[0].Json!["tools"]!.AsArray().Count);
    }

    [Fact]
    public async Task Should_ReplyClearlyAndRecordAnIncident_When_TheModelEndpointIsDown()
    {
        // Arrange: nothing listens on the endpoint.
        var port = ClosedPort();
        await using var host = Host(Models(new Uri($"http://127.0.0.1:{port}/v1"), "sk-x"));
        var chat = new ChatDriver(host, await PublishAgentAsync(host, "[]"));

        // Act
        var replies = await chat.SayAsync("hello?");

        // Assert: the user gets a clear reply, the instance an incident saying why, and the run finishes (not faulted).
        Assert.Equal(["Sorry, the assistant is not available right now. Please try again later."], replies);
        var incident = Assert.Single(chat.Instance!.State.Incidents);
        Assert.Contains("cannot reach the server", incident.Message);
        Assert.Contains("Platform:AI:Models:default", incident.Message);
    }

    [Fact]
    public async Task Should_FailWithAClearMessage_When_TheModelKeepsCallingToolsBeyondMaxRounds()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        server.Reply = (_, _) => FakeOpenAiReply.Calls(("get_device_state", "{\"device\":\"kitchen light\"}"));

        // Act
        var (record, _) = await host.RunAsync("Platform.AiAgent", new()
        {
            ["prompt"] = AiHost.Literal("Is the kitchen light on?"), ["tools"] = AiHost.Literal("[\"get_device_state\"]"), ["maxRounds"] = AiHost.Literal(2),
        });

        // Assert
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        Assert.Contains("MaxRounds", record.Outputs["Error"]?.ToString());
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Should_FailWithAClearMessage_When_TheTokenBudgetIsSpent()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        server.Reply = (_, _) => FakeOpenAiReply.Calls(("get_device_state", "{\"device\":\"kitchen light\"}"));

        // Act
        var (record, _) = await host.RunAsync("Platform.AiAgent", new()
        {
            ["prompt"] = AiHost.Literal("Is the kitchen light on?"), ["tools"] = AiHost.Literal("[\"get_device_state\"]"), ["maxTokens"] = AiHost.Literal(10),
        });

        // Assert: the small budget capped the answer and stopped the run after the first round.
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        Assert.Contains("MaxTokens 10", record.Outputs["Error"]?.ToString());
        var request = Assert.Single(server.Requests);
        Assert.True(request.Json!["max_tokens"] is not null || request.Json["max_completion_tokens"] is not null, request.Body);
    }

    [Fact]
    public async Task Should_RefuseUnknownTools_When_ToolsNameOneThatDoesNotExist()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));

        // Act
        var (record, _) = await host.RunAsync("Platform.AiAgent", new()
        {
            ["prompt"] = AiHost.Literal("hi"), ["tools"] = AiHost.Literal("[\"drop_tables\"]"),
        });

        // Assert
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        Assert.Contains("drop_tables", record.Outputs["Error"]?.ToString());
        Assert.Contains("query_database", record.Outputs["Error"]?.ToString());
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Should_UseTheFallbackModelAndCountItsTokens_When_ThePrimaryModelFails()
    {
        // Arrange: "primary" is down; its fallback "backup" answers.
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = _ => "backup here";
        var settings = Models(new Uri($"http://127.0.0.1:{ClosedPort()}/v1"), "sk-x", name: "primary");
        foreach (var (k, v) in Models(server.ApiBase, server.ApiKey, name: "backup")) settings[k] = v;
        settings["Platform:AI:Models:primary:Fallback"] = "backup";
        await using var host = Host(settings);
        var tokens = new List<(long Value, string? Model, string? Kind)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "platform" && instrument.Name == "ai_tokens_total") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? model = null, kind = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "model") model = tag.Value?.ToString();
                if (tag.Key == "kind") kind = tag.Value?.ToString();
            }
            lock (tokens) tokens.Add((value, model, kind));
        });
        listener.Start();

        // Act
        var (agent, _) = await host.RunAsync("Platform.AiAgent", new() { ["prompt"] = AiHost.Literal("hello"), ["model"] = AiHost.Literal("primary") });
        var (ask, _) = await host.RunAsync("Platform.AskModel", new() { ["prompt"] = AiHost.Literal("hello"), ["model"] = AiHost.Literal("primary") });

        // Assert
        Assert.Equal("Done", Assert.Single(agent.Outcomes));
        Assert.Equal("backup here", agent.Outputs["Answer"]?.ToString());
        Assert.Contains("\"model\":\"backup\"", JsonSerializer.Serialize(agent.Payload["steps"]));
        Assert.Equal("Done", Assert.Single(ask.Outcomes));
        Assert.Equal("backup here", ask.Outputs["Answer"]?.ToString());
        lock (tokens)
        {
            Assert.Contains(tokens, t => t.Model == "backup" && t.Kind == "input" && t.Value > 0);
            Assert.DoesNotContain(tokens, t => t.Model == "primary");
        }
    }

    [Fact]
    public async Task Should_RunAWorkflowMarkedUsableAsATool_When_TheModelCallsIt()
    {
        // Arrange: a published workflow with a declared input, marked usable as a tool, that sets a workflow output.
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        var name = "Weather " + Guid.NewGuid().ToString("N")[..6];
        var toolName = "workflow_" + name.ToLowerInvariant().Replace(' ', '_');
        var tool = new JsonObject
        {
            ["name"] = name, ["description"] = "Looks up the weather of a city.",
            ["customProperties"] = new JsonObject { ["usableAsTool"] = true },
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "city", ["type"] = "String", ["description"] = "The city.", ["isRequired"] = true }),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["connections"] = new JsonArray(),
                ["activities"] = new JsonArray(Node("w", "Elsa.WriteLine", ("text", Js("setOutput('weather', 'Sunny in ' + getInput('city')); 'looked up'")))),
            },
        };
        await host.Services.GetRequiredService<Platform.Engine.Contracts.IWorkflowDefinitionService>().SaveAsync(tool, publish: true);
        server.Reply = (messages, _) => ToolResult(messages) is { } result
            ? FakeOpenAiReply.Text("Tool said: " + JsonNode.Parse(result)!["output"]!["weather"])
            : FakeOpenAiReply.Calls((toolName, "{\"city\":\"Oslo\"}"));

        // Act
        var (record, _) = await host.RunAsync("Platform.AiAgent", new()
        {
            ["prompt"] = AiHost.Literal("What is the weather in Oslo?"), ["tools"] = AiHost.Literal($"[\"{toolName}\"]"),
        });

        // Assert: the declared input became the tool's typed argument and the sub-workflow's output the result.
        Assert.Equal("Done", Assert.Single(record.Outcomes));
        Assert.Equal("Tool said: Sunny in Oslo", record.Outputs["Answer"]?.ToString());
        var function = server.Requests[0].Json!["tools"]![0]!["function"]!;
        Assert.Equal(toolName, function["name"]!.GetValue<string>());
        Assert.Equal("Looks up the weather of a city.", function["description"]!.GetValue<string>());
        Assert.Equal("string", function["parameters"]!["properties"]!["city"]!["type"]!.GetValue<string>());
        Assert.Equal("city", function["parameters"]!["required"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_ReplayEarlierToolResults_When_AFollowUpMessageOfTheConversationStartsANewRun()
    {
        // Arrange: the first message makes the agent query the shop; the follow-up (a new workflow run in the same
        // conversation) is answered from memory, without a second query.
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        var (shop, orders) = await ShopAsync(host);
        const string question = "How many orders do we have?";
        server.Reply = (messages, _) =>
        {
            var user = messages.Last(m => m?["role"]?.GetValue<string>() == "user")!["content"]!.ToString();
            if (user == question)
                return ToolResult(messages) is { } result
                    ? FakeOpenAiReply.Text($"The shop has {JsonNode.Parse(result)!["rows"]![0]!["n"]} orders in total.")
                    : FakeOpenAiReply.Calls(("query_database", JsonSerializer.Serialize(new { dataSource = shop, sql = "SELECT COUNT(*) AS n FROM orders" })));
            var remembered = messages.Select(m => m?["content"]?.ToString() ?? "").FirstOrDefault(c => c.StartsWith("(Earlier tool result of query_database", StringComparison.Ordinal));
            return FakeOpenAiReply.Text(remembered is null ? "I do not remember." : "From memory: " + JsonNode.Parse(remembered[(remembered.IndexOf("): ", StringComparison.Ordinal) + 3)..^1])!["rows"]![0]!["n"]);
        };
        var chat = new ChatDriver(host, await PublishAgentAsync(host, "[\"query_database\"]"));
        var first = await chat.SayAsync(question);
        var firstInstance = chat.Instance!.Id;

        // Act
        var followUp = await chat.SayAsync("And what was that figure again?");

        // Assert: two runs; the second had the first run's tool call and result, and queried nothing.
        Assert.Equal([$"The shop has {orders} orders in total."], first);
        Assert.NotEqual(firstInstance, chat.Instance!.Id);
        Assert.Equal([$"From memory: {orders}"], followUp);
        Assert.Equal(3, server.Requests.Count);
        var last = server.Conversations[2];
        Assert.DoesNotContain(last, m => m!["role"]!.GetValue<string>() == "tool");
        var record = await JournalAsync(host, chat.Instance.Id);
        Assert.Equal("1", JsonSerializer.Serialize(record.Payload["rememberedToolResults"]));
    }

    [Fact]
    public async Task Should_ReplayNoToolResults_When_HistoryTurnsIsZero()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(Models(server.ApiBase, server.ApiKey));
        var calls = 0;
        server.Reply = (_, _) => Interlocked.Increment(ref calls) == 1
            ? FakeOpenAiReply.Calls(("get_device_state", "{\"device\":\"kitchen light\"}"))
            : FakeOpenAiReply.Text("ok");
        var definition = await ChatDriver.PublishAsync(host, "agent-" + Guid.NewGuid().ToString("N")[..8], new JsonArray(
                Node("received", "Platform.MessageReceived"),
                Node("agent", "Platform.AiAgent", ("tools", AiHost.Literal("[\"get_device_state\"]")), ("historyTurns", AiHost.Literal(0))),
                Node("answer", "Platform.SendReply", ("text", Js("getOutput('agent', 'Answer')")))),
            new JsonArray(Connect("received", "Done", "agent"), Connect("agent", "Done", "answer")));
        var chat = new ChatDriver(host, definition);
        await chat.SayAsync("Is the kitchen light on?");

        // Act
        await chat.SayAsync("And now?");

        // Assert: the second run sent no earlier turn and no earlier tool result.
        var last = server.Conversations[^1];
        Assert.Single(last);
        Assert.DoesNotContain(last, m => (m!["content"]?.ToString() ?? "").Contains("Earlier tool result", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_OfferAWorkflowAsATool_When_ItIsMarkedUsableAsActivity()
    {
        // Arrange: the Studio's "Usable as activity" check box sets options.usableAsActivity.
        await using var host = Host(new Dictionary<string, string?>());
        var name = "Stock " + Guid.NewGuid().ToString("N")[..6];
        var model = new JsonObject
        {
            ["name"] = name, ["description"] = "Tells the stock of a product.",
            ["options"] = new JsonObject { ["usableAsActivity"] = true },
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "product", ["type"] = "String" }, new JsonObject { ["name"] = "count", ["type"] = "Int32" }),
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["connections"] = new JsonArray(), ["activities"] = new JsonArray() },
        };
        await host.Services.GetRequiredService<Platform.Engine.Contracts.IWorkflowDefinitionService>().SaveAsync(model, publish: true);
        var unmarked = (JsonObject)model.DeepClone();
        unmarked["name"] = "Plain " + Guid.NewGuid().ToString("N")[..6];
        unmarked["options"] = new JsonObject { ["usableAsActivity"] = false };
        await host.Services.GetRequiredService<Platform.Engine.Contracts.IWorkflowDefinitionService>().SaveAsync(unmarked, publish: true);

        // Act
        var tools = await host.Services.GetServices<IAgentToolSource>().Single().GetToolsAsync(CancellationToken.None);

        // Assert: described by the workflow's description, its inputs as typed arguments; the unmarked one is not offered.
        var tool = Assert.Single(tools);
        Assert.Equal("workflow_" + name.ToLowerInvariant().Replace(' ', '_'), tool.Name);
        Assert.Equal("Tells the stock of a product.", tool.Description);
        Assert.Equal("string", tool.ParametersSchema.GetProperty("properties").GetProperty("product").GetProperty("type").GetString());
        Assert.Equal("integer", tool.ParametersSchema.GetProperty("properties").GetProperty("count").GetProperty("type").GetString());
    }

    [Fact]
    public void Should_RefuseTheConfiguration_When_AFallbackFormsACycle()
    {
        var models = new Dictionary<string, ModelEndpointOptions>
        {
            ["a"] = new() { Endpoint = "http://localhost:11434/v1", Model = "m", Fallback = "b" },
            ["b"] = new() { Endpoint = "http://localhost:11434/v1", Model = "m", Fallback = "a" },
        };
        var e = Assert.Throws<InvalidOperationException>(() => new ModelCatalog(models));
        Assert.Contains("cycle", e.Message);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<Platform.Engine.Models.ActivityExecutionRecord> JournalAsync(AiHost host, string instanceId)
    {
        var journal = await host.Services.GetRequiredService<Platform.Engine.Contracts.IActivityExecutionStore>()
            .FindManyAsync(new Platform.Engine.Contracts.ActivityExecutionFilter { WorkflowInstanceId = instanceId }, new Platform.Engine.Contracts.PageArgs(0, 100));
        return journal.Items.Single(r => r.ActivityId == "agent");
    }
}

/// <summary>The fake validates function calling as the API does.</summary>
public sealed class FakeOpenAiToolCallTests
{
    [Fact]
    public async Task Should_Answer400InOpenAisShape_When_AToolMessageAnswersNoToolCall()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", $"Bearer {server.ApiKey}");
        var body = new JsonObject
        {
            ["model"] = "gpt-4o-mini",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_x", ["content"] = "{}" }),
        };

        // Act
        var response = await http.PostAsync(new Uri(server.ApiBase + "/chat/completions"), new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Contains("role 'tool' must be a response", error["message"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Answer400_When_AToolNameBreaksThePattern()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("Authorization", $"Bearer {server.ApiKey}");
        var body = new JsonObject
        {
            ["model"] = "gpt-4o-mini",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
            ["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "query database" } }),
        };

        // Act
        var response = await http.PostAsync(new Uri(server.ApiBase + "/chat/completions"), new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("tools[0].function.name", error["param"]!.GetValue<string>());
    }
}
