using Microsoft.Extensions.Logging;
using Platform.Activities;

namespace Platform.Packs;

/// <summary>The engine's context of a call with another cancellation token (the per-call limit of <c>shared</c> packs).</summary>
internal sealed class CancellableActivityContext(ActivityExecutionContext inner, CancellationToken cancellationToken) : ActivityExecutionContext
{
    public override Activity Activity => inner.Activity;
    public override string ActivityInstanceId => inner.ActivityInstanceId;
    public override string WorkflowInstanceId => inner.WorkflowInstanceId;
    public override string DefinitionId => inner.DefinitionId;
    public override string? CorrelationId { get => inner.CorrelationId; set => inner.CorrelationId = value; }
    public override CancellationToken CancellationToken => cancellationToken;
    public override DateTimeOffset UtcNow => inner.UtcNow;
    public override IReadOnlyDictionary<string, object?> WorkflowInput => inner.WorkflowInput;
    public override bool IsTriggerOfWorkflow => inner.IsTriggerOfWorkflow;
    public override IReadOnlyDictionary<string, object?> ResumeInput => inner.ResumeInput;
    public override Bookmark? ResumedBookmark => inner.ResumedBookmark;
    public override IDictionary<string, object?> Properties => inner.Properties;
    public override ILogger Logger => inner.Logger;
    public override object? GetService(Type serviceType) => inner.GetService(serviceType);
    public override T? Get<T>(Input<T> input) where T : default => inner.Get(input);
    public override ValueTask<object?> EvaluateAsync(Expression expression, Type? targetType = null) => inner.EvaluateAsync(expression, targetType);
    public override void SetOutput(object output, object? value) => inner.SetOutput(output, value);
    public override object? GetVariable(string name) => inner.GetVariable(name);
    public override T? GetVariable<T>(string name) where T : default => inner.GetVariable<T>(name);
    public override void SetVariable(string name, object? value) => inner.SetVariable(name, value);
    public override void SetWorkflowOutput(string name, object? value) => inner.SetWorkflowOutput(name, value);
    public override void Complete(params string[] outcomes) => inner.Complete(outcomes);
    public override Bookmark CreateBookmark(BookmarkRequest request) => inner.CreateBookmark(request);
    public override void AddJournalData(string key, object? value) => inner.AddJournalData(key, value);
    public override void ReportProgress(double percent, string? message = null) => inner.ReportProgress(percent, message);
    public override string AddOutboxMessage(OutboxMessageRequest request) => inner.AddOutboxMessage(request);
}
