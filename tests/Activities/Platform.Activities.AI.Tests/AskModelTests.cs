using Platform.Testing.Fakes;

namespace Platform.Activities.AI.Tests;

public sealed class AskModelTests
{
    private static AiHost Host(FakeOpenAiServer? server, string? apiKey = null, string model = "gpt-4o-mini") => new(server is null
        ? new Dictionary<string, string?>()
        : new Dictionary<string, string?>
        {
            ["Platform:AI:ChatCompletion:Endpoint"] = server.ApiBase.ToString(),
            ["Platform:AI:ChatCompletion:Model"] = model,
            ["Platform:AI:ChatCompletion:ApiKey"] = apiKey ?? server.ApiKey,
        });

    [Fact]
    public async Task Should_ReturnTheAnswer_When_TheModelAnswers()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = messages => $"{messages.Count} messages received";
        await using var host = Host(server);

        // Act
        var (record, _) = await host.RunAsync("Platform.AskModel", new()
        {
            ["prompt"] = AiHost.Literal("Summarise the request in one sentence."),
            ["system"] = AiHost.Literal("You are a helpful shop assistant."),
            ["text"] = AiHost.Literal("I want to return the blue shoes I bought yesterday."),
        });

        // Assert
        Assert.Equal("Done", Assert.Single(record.Outcomes));
        Assert.Equal("2 messages received", record.Outputs["Answer"]?.ToString());
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal($"Bearer {server.ApiKey}", request.Header("Authorization"));
        Assert.Equal("gpt-4o-mini", request.Json!["model"]!.GetValue<string>());
        var conversation = Assert.Single(server.Conversations);
        Assert.Equal("system", conversation[0]!["role"]!.GetValue<string>());
        Assert.Equal("You are a helpful shop assistant.", conversation[0]!["content"]!.ToString());
        Assert.Equal("user", conversation[1]!["role"]!.GetValue<string>());
        Assert.Equal("Summarise the request in one sentence.\n\nI want to return the blue shoes I bought yesterday.", conversation[1]!["content"]!.ToString());
    }

    [Fact]
    public async Task Should_TakeNotConfigured_When_NoEndpointIsConfigured()
    {
        // Arrange
        await using var host = Host(null);

        // Act
        var (record, _) = await host.RunAsync("Platform.AskModel", new() { ["prompt"] = AiHost.Literal("hello") });

        // Assert
        Assert.Equal("NotConfigured", Assert.Single(record.Outcomes));
        Assert.Contains("Platform:AI:ChatCompletion:Endpoint", record.Outputs["Error"]?.ToString());
    }

    [Fact]
    public async Task Should_TakeFailedWithTheReason_When_TheApiKeyIsWrong()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(server, apiKey: "sk-wrong");

        // Act
        var (record, _) = await host.RunAsync("Platform.AskModel", new() { ["prompt"] = AiHost.Literal("hello") });

        // Assert
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        var error = record.Outputs["Error"]?.ToString();
        Assert.Contains("401", error);
        Assert.Contains("API key", error);
        Assert.Equal(401, Assert.Single(server.Requests).ResponseStatus);
    }

    [Fact]
    public async Task Should_TakeFailed_When_TheModelIsUnknown()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(server, model: "gpt-unknown");

        // Act
        var (record, _) = await host.RunAsync("Platform.AskModel", new() { ["prompt"] = AiHost.Literal("hello") });

        // Assert
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        Assert.Contains("404", record.Outputs["Error"]?.ToString());
    }
}

public sealed class AskModelWithoutKeyTests
{
    [Fact]
    public async Task Should_ReportTheMissingKey_When_NoApiKeyIsConfiguredForAServerThatNeedsOne()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = new AiHost(new Dictionary<string, string?>
        {
            ["Platform:AI:ChatCompletion:Endpoint"] = server.BaseUrl.ToString(), // no path: /v1 is added
            ["Platform:AI:ChatCompletion:Model"] = "gpt-4o-mini",
        });

        // Act
        var (record, _) = await host.RunAsync("Platform.AskModel", new() { ["prompt"] = AiHost.Literal("hello") });

        // Assert
        Assert.Equal("Failed", Assert.Single(record.Outcomes));
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Contains("401", record.Outputs["Error"]?.ToString());
    }
}
