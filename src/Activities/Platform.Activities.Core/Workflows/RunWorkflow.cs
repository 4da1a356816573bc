using Platform.Activities;

namespace Platform.Activities.Core.Workflows;

/// <summary>Runs another published workflow and continues with its output.</summary>
[Activity("Elsa", "Composition", "Runs another published workflow (a sub-workflow) and continues with its output.")]
[FlowNode("Done", "Faulted")]
public sealed class RunWorkflow : Activity
{
    /// <summary>The sub-workflow bookmark name (key: child instance id).</summary>
    public const string BookmarkName = "Elsa.RunWorkflow";

    /// <summary>The definition id of the workflow to run.</summary>
    [Input(Description = "The definition id of the workflow to run (its published version runs).", DisplayName = "Workflow definition id")]
    public Input<string> WorkflowDefinitionId { get; set; } = new("");

    /// <summary>The input of the sub-workflow.</summary>
    [Input(Description = "The sub-workflow's input, as a JSON object.", UIHint = UIHints.JsonEditor)]
    public Input<IDictionary<string, object?>> Input { get; set; } = new((IDictionary<string, object?>)new Dictionary<string, object?>());

    /// <summary>Whether to wait for the sub-workflow to finish.</summary>
    [Input(Description = "Wait until the sub-workflow finishes (also when it suspends).")]
    public Input<bool> WaitForCompletion { get; set; } = new(true);

    /// <summary>The sub-workflow's output.</summary>
    [Output] public Output<IDictionary<string, object?>> Result { get; set; } = new();

    /// <summary>The sub-workflow's instance id.</summary>
    [Output] public Output<string> ChildInstanceId { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var definitionId = WorkflowDefinitionId.Get(context);
        if (string.IsNullOrWhiteSpace(definitionId))
            throw new ActivityFaultException(FaultCodes.Configuration, "Run Workflow has no workflow definition id. Set it to the id of a published workflow.", nonRetryable: true);
        var invoker = context.GetRequiredService<IWorkflowInvoker>();
        WorkflowInvocationResult result;
        try
        {
            result = await invoker.InvokeAsync(new WorkflowInvocationRequest(definitionId)
            {
                Input = Input.Get(context) ?? new Dictionary<string, object?>(), CorrelationId = context.CorrelationId, ParentInstanceId = context.WorkflowInstanceId,
            }, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ActivityFaultException)
        {
            throw new ActivityFaultException(FaultCodes.Workflow, $"Workflow '{definitionId}' could not be started: {e.Message}", nonRetryable: true, e);
        }
        ChildInstanceId.Set(context, result.InstanceId);
        if (result.SubStatus == "Suspended" && WaitForCompletion.Get(context))
        {
            context.CreateBookmark(new BookmarkRequest(BookmarkName, result.InstanceId));
            return;
        }
        Finish(context, result.SubStatus, result.Output, result.Error);
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        var output = context.ResumeInput.GetValueOrDefault("output") as IDictionary<string, object?> ?? new Dictionary<string, object?>();
        Finish(context, context.ResumeInput.GetValueOrDefault("subStatus") as string ?? "Finished", output, context.ResumeInput.GetValueOrDefault("error") as string);
        return ValueTask.CompletedTask;
    }

    private void Finish(ActivityExecutionContext context, string subStatus, IEnumerable<KeyValuePair<string, object?>> output, string? error)
    {
        Result.Set(context, output.ToDictionary(p => p.Key, p => p.Value));
        if (error is not null) context.AddJournalData("error", error);
        context.Complete(subStatus is "Faulted" or "Cancelled" ? "Faulted" : "Done");
    }
}
