using System.Text.Json;
using Platform.Engine.Descriptors;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Extensions;

namespace Platform.Activities.AI.Tests;

public sealed class RecognizeIntentTests
{
    [Fact]
    public async Task Should_TakeTheIntentPortAndSetDeclaredVariables_When_TheSetTypeRecognisesTheText()
    {
        // Arrange
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());

        // Act
        var (record, instance) = await host.RunAsync("Platform.RecognizeIntent.assistant",
            new() { ["text"] = AiHost.Literal("please turn on the light in the cooking area") }, ("room", "String"));

        // Assert
        Assert.Equal("device_on", Assert.Single(record.Outcomes));
        Assert.Equal("device_on", record.Outputs["Intent"]?.ToString());
        Assert.Equal("kitchen", instance.State.Variables["room"]?.ToString());
        var entities = JsonSerializer.SerializeToElement(record.Outputs["Entities"]);
        Assert.Equal("kitchen", entities.GetProperty("room").GetString());
        var alternatives = JsonSerializer.SerializeToElement(record.Outputs["Alternatives"]);
        Assert.Equal(3, alternatives.GetArrayLength());
        Assert.Equal("device_on", alternatives[0].GetProperty("intent").GetString());
        Assert.DoesNotContain("order_number", instance.State.Variables.Keys);
    }

    [Theory]
    [InlineData("book a flight to paris")]
    [InlineData("tell me a joke")]
    [InlineData("what is the weather like in berlin")]
    public async Task Should_TakeOutOfScope_When_TheTextMatchesNoIntent(string text)
    {
        // Arrange
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());

        // Act
        var (record, _) = await host.RunAsync("Platform.RecognizeIntent.assistant",
            new() { ["text"] = AiHost.Literal(text) });

        // Assert
        Assert.Equal("OutOfScope", Assert.Single(record.Outcomes));
        Assert.Equal("OutOfScope", record.Outputs["Intent"]?.ToString());
    }

    [Fact]
    public async Task Should_UseTheSetOfTheInput_When_TheGenericTypeRuns()
    {
        // Arrange
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());

        // Act
        var (record, _) = await host.RunAsync("Platform.RecognizeIntent",
            new() { ["text"] = AiHost.Literal("unlock the front door please"), ["intentSet"] = AiHost.Literal("assistant") });

        // Assert
        Assert.Equal("unlock_door", Assert.Single(record.Outcomes));
    }

    [Fact]
    public async Task Should_Fault_When_TheIntentSetDoesNotExist()
    {
        // Arrange
        await using var host = new AiHost();

        // Act
        var (record, instance) = await host.RunAsync("Platform.RecognizeIntent",
            new() { ["text"] = AiHost.Literal("hello"), ["intentSet"] = AiHost.Literal("nope") });

        // Assert
        Assert.Equal("Faulted", record.Status.ToString());
        Assert.Contains("Intents page", instance.State.Incidents.Single().Message);
    }

    [Fact]
    public async Task Should_RegisterOneTypePerSetWithOnePortPerIntent_When_SetsAreSavedAndDeleted()
    {
        // Arrange
        await using var host = new AiHost();
        var registry = host.Services.GetRequiredService<ActivityRegistry>();

        // Act
        await host.SaveAsync(Sets.Assistant());
        var descriptor = registry.Find("Platform.RecognizeIntent.assistant");
        await host.Store.DeleteAsync("assistant");
        await host.Services.GetRequiredService<IntentActivityTypes>().RefreshAsync("assistant");

        // Assert
        Assert.NotNull(descriptor);
        Assert.Equal(["device_on", "device_off", "orders_today", "unlock_door", "OutOfScope"], descriptor.Outcomes);
        Assert.DoesNotContain(descriptor.Inputs, i => i.Name == "IntentSet");
        Assert.Null(registry.Find("Platform.RecognizeIntent.assistant"));
        Assert.NotNull(registry.Find("Platform.RecognizeIntent"));
    }

    [Fact]
    public async Task Should_FindNumbersDatesAndSetEntities_When_ExtractEntitiesRuns()
    {
        // Arrange
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());

        // Act
        var (record, instance) = await host.RunAsync("Platform.ExtractEntities",
            new() { ["text"] = AiHost.Literal("where is ORD-123456, I ordered 3 lamps tomorrow at 7"), ["intentSet"] = AiHost.Literal("assistant") },
            ("order_number", "String"), ("number", "Object"));

        // Assert
        Assert.Equal("Done", Assert.Single(record.Outcomes));
        var entities = JsonSerializer.SerializeToElement(record.Outputs["Entities"]);
        Assert.Equal("123456", entities.GetProperty("order_number").GetString());
        Assert.Equal(3m, entities.GetProperty("number").GetDecimal());
        Assert.True(entities.TryGetProperty("datetime", out _));
        Assert.Equal("123456", instance.State.Variables["order_number"]?.ToString());
    }

    [Fact]
    public async Task Should_TakeNone_When_NoEntityIsFound()
    {
        // Arrange
        await using var host = new AiHost();

        // Act
        var (record, _) = await host.RunAsync("Platform.ExtractEntities", new() { ["text"] = AiHost.Literal("hello there") });

        // Assert
        Assert.Equal("None", Assert.Single(record.Outcomes));
    }
}
