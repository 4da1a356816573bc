using System.Net;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>
/// <c>POST /elsa/api/workflow-instances/{id}/retry</c> on SQLite and PostgreSQL. The failing activity is a Run Workflow whose
/// sub-workflow is not published yet: publishing it is the fix, and the retry runs Run Workflow again and finishes.
/// </summary>
public abstract class WorkflowRetryApiTests(ServerFixture server)
{
    private HttpClient Admin => server.Admin;

    /// <summary>Start → WriteLine("before") → Run Workflow(<paramref name="childDefinitionId"/>) → WriteLine("after").</summary>
    private static JsonObject CallsChild(string name, string childDefinitionId) => Workflows.Sequence(name, null,
        Workflows.Activity("start1", "Elsa.Start"),
        Workflows.Activity("before1", "Elsa.WriteLine", ("text", Workflows.Literal("String", "before"))),
        Workflows.Activity("child1", "Elsa.RunWorkflow", ("workflowDefinitionId", Workflows.Literal("String", childDefinitionId))),
        Workflows.Activity("after1", "Elsa.WriteLine", ("text", Workflows.Literal("String", "after"))));

    private async Task<(string InstanceId, string ChildDefinitionId)> RunFaultedAsync()
    {
        var childDefinitionId = "retry-child-" + Guid.NewGuid().ToString("N")[..12];
        var parent = await Admin.SaveAsync(CallsChild(Workflows.UniqueName("retry"), childDefinitionId), publish: true);
        var (instanceId, state) = await Admin.ExecuteAsync(parent.Str("definitionId"), "Published");
        Assert.Equal("Faulted", state.Str("subStatus"));
        return (instanceId, childDefinitionId);
    }

    private async Task<List<JsonObject>> JournalAsync(string instanceId) =>
        (await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}/journal"))["items"]!.AsArray().Select(r => r!.AsObject()).ToList();

    private static int Count(List<JsonObject> journal, string activityId, string eventName) =>
        journal.Count(r => r.Str("activityId") == activityId && r["eventName"]?.GetValue<string>() == eventName);

    [Fact]
    public async Task Should_ResumeFromTheFailedActivityAndFinish_When_AFaultedInstanceIsRetriedAfterTheFix()
    {
        // Arrange: the instance faults on Run Workflow because the sub-workflow does not exist yet.
        var (instanceId, childDefinitionId) = await RunFaultedAsync();
        var faulted = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal("Faulted", faulted.Str("subStatus"));
        Assert.Contains(faulted["workflowState"]!["incidents"]!.AsArray(), i => i!.Str("activityId") == "child1");
        var before = await JournalAsync(instanceId);
        Assert.Equal(1, Count(before, "before1", "Completed"));
        Assert.Equal(0, Count(before, "after1", "Started"));

        // The fix: publish the sub-workflow under the id the parent calls.
        var child = Workflows.HelloWorld(Workflows.UniqueName("retry child"));
        child["definitionId"] = childDefinitionId;
        await Admin.SaveAsync(child, publish: true);

        // Act
        var retried = await Admin.PostJsonAsync($"{Api}/workflow-instances/{instanceId}/retry", null);

        // Assert: the answer is the instance summary, now finished; the activities before the failure ran once.
        Assert.Equal(instanceId, retried.Str("id"));
        Assert.Equal("Finished", retried.Str("status"));
        Assert.Equal("Finished", retried.Str("subStatus"));
        var instance = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal("Finished", instance.Str("subStatus"));
        var journal = await JournalAsync(instanceId);
        Assert.Equal(1, Count(journal, "start1", "Completed"));
        Assert.Equal(1, Count(journal, "before1", "Started"));
        Assert.Equal(1, Count(journal, "before1", "Completed"));
        Assert.Equal(2, Count(journal, "child1", "Started"));
        Assert.Equal(1, Count(journal, "child1", "Completed"));
        Assert.Equal(1, Count(journal, "after1", "Completed"));
        var children = await Admin.GetJsonAsync($"{Api}/workflow-instances?definitionId={childDefinitionId}");
        Assert.Equal("Finished", Assert.Single(children["items"]!.AsArray())!.Str("subStatus"));

        // Retrying again is a conflict: the instance is no longer faulted.
        using var again = await Admin.PostAsync($"{Api}/workflow-instances/{instanceId}/retry", null);
        var problem = await again.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("only Faulted instances can be retried", problem.Str("detail"));
    }

    [Fact]
    public async Task Should_FaultAgainWithANewIncident_When_RetriedBeforeTheFix()
    {
        // Arrange
        var (instanceId, _) = await RunFaultedAsync();

        // Act: nothing was fixed.
        var retried = await Admin.PostJsonAsync($"{Api}/workflow-instances/{instanceId}/retry", null);

        // Assert
        Assert.Equal("Faulted", retried.Str("subStatus"));
        var instance = await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}");
        Assert.Equal(2, instance["workflowState"]!["incidents"]!.AsArray().Count(i => i!.Str("activityId") == "child1"));
        var journal = await JournalAsync(instanceId);
        Assert.Equal(1, Count(journal, "before1", "Completed"));
        Assert.Equal(0, Count(journal, "after1", "Started"));
    }

    [Fact]
    public async Task Should_Answer409_When_TheInstanceIsNotFaulted()
    {
        // Arrange
        var definition = await Admin.SaveAsync(Workflows.WaitAnHour(Workflows.UniqueName("retry suspended")), publish: true);
        var (instanceId, state) = await Admin.ExecuteAsync(definition.Str("definitionId"), "Published");
        Assert.Equal("Suspended", state.Str("subStatus"));

        // Act
        using var response = await Admin.PostAsync($"{Api}/workflow-instances/{instanceId}/retry", null);

        // Assert
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("Suspended", problem.Str("detail"));
        Assert.Equal("Suspended", (await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}")).Str("subStatus"));
    }

    [Fact]
    public async Task Should_Answer404_When_TheInstanceDoesNotExist()
    {
        using var response = await Admin.PostAsync($"{Api}/workflow-instances/no-such-instance/retry", null);
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_Answer403AndLeaveItFaulted_When_AnOperatorRetries()
    {
        // Arrange
        var (instanceId, _) = await RunFaultedAsync();

        // Act
        using var response = await server.Operator.PostAsync($"{Api}/workflow-instances/{instanceId}/retry", null);

        // Assert
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Faulted", (await Admin.GetJsonAsync($"{Api}/workflow-instances/{instanceId}")).Str("subStatus"));
    }
}

/// <summary>The retry API on SQLite.</summary>
public sealed class SqliteWorkflowRetryApiTests(SqliteServerFixture server) : WorkflowRetryApiTests(server), IClassFixture<SqliteServerFixture>;

/// <summary>The retry API on PostgreSQL.</summary>
public sealed class PostgresWorkflowRetryApiTests(PostgresServerFixture server) : WorkflowRetryApiTests(server), IClassFixture<PostgresServerFixture>;
