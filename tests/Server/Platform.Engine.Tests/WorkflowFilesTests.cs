using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Testing;
using Xunit;

namespace Platform.Engine.Tests;

/// <summary>
/// Every file in workflows/ that uses only the core activities is published and run to its end on the engine. The seed
/// workflows that need channels, intents, data and devices run end to end in Platform.Server.Tests (SeedWorkflowTests).
/// </summary>
public class WorkflowFilesTests
{
    public static TheoryData<string> WorkflowFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(TestPaths.InRepo("workflows"), "*.json").Order())
            if (UsesOnlyCoreActivities(JsonNode.Parse(File.ReadAllText(f))!)) data.Add(Path.GetFileName(f));
        return data;
    }

    /// <summary>True when every activity type in the model is an <c>Elsa.*</c> core type.</summary>
    public static bool UsesOnlyCoreActivities(JsonNode model) =>
        model["root"]!["activities"]!.AsArray().All(a => a!["type"]!.GetValue<string>().StartsWith("Elsa.", StringComparison.Ordinal));

    [Theory]
    [MemberData(nameof(WorkflowFiles))]
    public async Task Should_Run_To_Completion_Without_Incidents_When_Workflow_File_Is_Published(string file)
    {
        // Arrange
        await using var engine = new EngineFixture();
        var model = JsonNode.Parse(await File.ReadAllTextAsync(TestPaths.InRepo("workflows", file)))!.AsObject();
        var definition = (await engine.Definitions.SaveAsync(model, publish: true)).Definition;
        var hosted = engine.Services.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(CancellationToken.None);

        // Act: through its trigger when it has one, else from its start.
        var triggers = await engine.Services.GetRequiredService<ITriggerStore>().FindByNameAsync("Elsa.HttpEndpoint");
        var trigger = triggers.FirstOrDefault(t => t.DefinitionId == definition.DefinitionId);
        var run = trigger is null
            ? await engine.Runtime.StartAsync(new StartWorkflowRequest(definition.DefinitionId))
            : (await engine.Runtime.TriggerAsync(new TriggerRequest(trigger.Name, trigger.Key))).Single(r => r.Instance.DefinitionId == definition.DefinitionId);
        var instanceId = run.InstanceId;
        var instances = engine.Services.GetRequiredService<IWorkflowInstanceStore>();
        // HTTP workflows default to persistence OnFaultOnly: a run that finished without a fault is not stored.
        var instance = await instances.FindAsync(instanceId) ?? run.Instance;
        for (var i = 0; i < 100 && instance!.Status != WorkflowStatus.Finished; i++)
        {
            await Task.Delay(100);
            instance = await instances.FindAsync(instanceId);
        }
        foreach (var h in hosted) await h.StopAsync(CancellationToken.None);

        // Assert
        Assert.Empty(instance!.State.Incidents);
        Assert.Equal(WorkflowSubStatus.Finished, instance.SubStatus);
        if (file == "hello-http.json")
            Assert.Contains("Hello, world!", System.Text.Json.JsonSerializer.Serialize(instance.State.Properties));
        if (file == "fork-join-delay.json")
            Assert.Equal("both branches joined", instance.State.Output["result"]?.ToString());
    }
}
