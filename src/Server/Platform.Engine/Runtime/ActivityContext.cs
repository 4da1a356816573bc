using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>The engine's <see cref="ActivityExecutionContext"/> for one execution (or resumption) of an activity.</summary>
internal sealed class ActivityContext : ActivityExecutionContext
{
    private readonly WorkflowExecution _run;
    private readonly Dictionary<Input, object?> _inputs = new(ReferenceEqualityComparer.Instance);

    public ActivityContext(WorkflowExecution run, Activity activity, ActivityExecutionRecord record, WorkItem item, Bookmark? bookmark)
    {
        _run = run;
        Activity = activity;
        Record = record;
        IsTriggerOfWorkflow = item.IsTrigger;
        ResumedBookmark = bookmark;
        ResumeInput = item.ResumeInput ?? (IReadOnlyDictionary<string, object?>)EmptyInput;
        Logger = run.LoggerFactory.CreateLogger(activity.GetType());
    }

    private static readonly Dictionary<string, object?> EmptyInput = new();

    public ActivityExecutionRecord Record { get; }
    public List<string>? Outcomes { get; private set; }
    public List<Bookmark> Bookmarks { get; } = [];
    public bool EndRequested { get; private set; }

    public override Activity Activity { get; }
    public override string ActivityInstanceId => Record.Id;
    public override string WorkflowInstanceId => _run.Instance.Id;
    public override string DefinitionId => _run.Instance.DefinitionId;
    public override string? CorrelationId { get => _run.Instance.CorrelationId; set => _run.Instance.CorrelationId = value; }
    public override CancellationToken CancellationToken => _run.CancellationToken;
    public override DateTimeOffset UtcNow => _run.Clock.GetUtcNow();
    public override IReadOnlyDictionary<string, object?> WorkflowInput => _run.State.Input;
    public override bool IsTriggerOfWorkflow { get; }
    public override IReadOnlyDictionary<string, object?> ResumeInput { get; }
    public override Bookmark? ResumedBookmark { get; }
    public override IDictionary<string, object?> Properties => _run.State.Properties;
    public override ILogger Logger { get; }

    public override object? GetService(Type serviceType)
    {
        // A pack's activity gets only what its manifest permits (IActivityServiceGate, from the packs module); the rest come from the host.
        if (serviceType != typeof(IActivityServiceGate) && _run.Services.GetService(typeof(IActivityServiceGate)) is IActivityServiceGate gate
            && gate.TryGetService(Activity, serviceType, _run.Services, out var gated))
            return gated;
        return _run.Services.GetService(serviceType);
    }

    public async ValueTask EvaluateInputsAsync()
    {
        if (Activity is NotInstalledActivity) return;
        var info = ActivityTypeInfo.For(Activity.GetType());
        foreach (var p in info.Inputs)
        {
            var raw = p.Property.GetValue(Activity);
            object? value;
            if (p.IsWrapped)
            {
                if (raw is not Input input) continue;
                value = await EvaluateAsync(input.Expression, p.ValueType);
                _inputs[input] = value;
            }
            else value = raw;
            Record.ActivityState[p.JsonName] = p.IsSensitive ? "***" : value;
        }
    }

    public override T? Get<T>(Input<T> input) where T : default
    {
        if (input is null) return default;
        if (_inputs.TryGetValue(input, out var v)) return (T?)v;
        if (input.Expression.Type == ExpressionTypes.Literal) return ValueConverter.Convert<T>(input.Expression.Value);
        throw new InvalidOperationException("This input was not evaluated before the activity ran. Use an Input<T> property, or context.EvaluateAsync for dynamic inputs.");
    }

    public override ValueTask<object?> EvaluateAsync(Expression expression, Type? targetType = null) =>
        _run.Evaluator.EvaluateAsync(expression, targetType ?? typeof(object), _run.ExpressionContext, CancellationToken);

    public override void SetOutput(object output, object? value)
    {
        var name = ActivityTypeInfo.For(Activity.GetType()).OutputName(Activity, output)
                   ?? throw new InvalidOperationException("Output.Set was called with an output that is not a property of this activity.");
        if (!_run.State.ActivityOutputs.TryGetValue(Activity.Id, out var outputs))
            _run.State.ActivityOutputs[Activity.Id] = outputs = new Dictionary<string, object?>();
        outputs[name] = value;
        Record.Outputs[name] = value;
        var variable = output.GetType().GetProperty(nameof(Output<object>.VariableName))!.GetValue(output) as string;
        if (!string.IsNullOrEmpty(variable)) SetVariable(variable, value);
    }

    public override object? GetVariable(string name) => _run.State.Variables.GetValueOrDefault(ResolveVariable(name));
    public override T? GetVariable<T>(string name) where T : default => ValueConverter.Convert<T>(GetVariable(name));
    public override void SetVariable(string name, object? value)
    {
        var resolved = ResolveVariable(name);
        value = ValueConverter.Normalize(value);
        // A declared variable keeps its declared type (a JavaScript number assigned to an Int32 variable stays an integer).
        if (value is not null && _run.Graph.Variables.TryGetValue(resolved, out var declared) && declared.TypeName is not ("Object" or "")
            && Descriptors.TypeAliases.Resolve(declared.TypeName) is var type && type != typeof(object))
        {
            try { value = ValueConverter.Normalize(ValueConverter.Convert(value, type)); }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or System.Text.Json.JsonException)
            {
                throw new ActivityFaultException(FaultCodes.InputConversion,
                    $"Variable '{resolved}' is declared as {declared.TypeName}; the value '{value}' cannot be converted to it.", nonRetryable: true, e);
            }
        }
        _run.State.Variables[resolved] = value;
    }

    /// <summary>Accepts a variable's name or its designer id.</summary>
    private string ResolveVariable(string nameOrId) =>
        !_run.State.Variables.ContainsKey(nameOrId) && _run.ExpressionContext.VariableIdToName?.TryGetValue(nameOrId, out var name) == true ? name : nameOrId;
    public override void SetWorkflowOutput(string name, object? value) => _run.State.Output[name] = ValueConverter.Normalize(value);

    public override void Complete(params string[] outcomes)
    {
        Outcomes ??= [];
        Outcomes.AddRange(outcomes.Length == 0 ? [Activity.DoneOutcome] : outcomes);
        if (Activity is ITerminalActivity) EndRequested = true;
    }

    public override Bookmark CreateBookmark(BookmarkRequest request)
    {
        var bookmark = new Bookmark
        {
            Id = Guid.NewGuid().ToString("N"), Name = request.Name, Key = request.Key, ActivityId = Activity.Id, ActivityNodeId = Activity.NodeId,
            ActivityInstanceId = Record.Id, ResumeAt = request.ResumeAt, CreatedAt = UtcNow,
            Payload = new Dictionary<string, object?>(request.Payload),
        };
        Bookmarks.Add(bookmark);
        return bookmark;
    }

    public override void AddJournalData(string key, object? value) => Record.Payload[key] = ValueConverter.Normalize(value);

    public override void ReportProgress(double percent, string? message = null)
    {
        if (double.IsNaN(percent)) throw new ArgumentOutOfRangeException(nameof(percent), "Progress must be a number from 0 to 100.");
        Record.Payload["progress"] = WorkflowRuntime.ProgressValue(percent, message, UtcNow);
        _run.ProgressReported?.Invoke(percent, message); // a background job stores it in the instance while the activity runs
    }

    public override string AddOutboxMessage(OutboxMessageRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Channel))
            throw new ActivityFaultException(FaultCodes.Configuration, "A message needs a channel name: set the Channel input, or reply to a received message.");
        var now = UtcNow;
        // Claimed by the committing node, which delivers it right after the commit (IOutboxListener): the first attempt is
        // under way and the lease runs until NextAttemptAt. If the node dies, another takes the message when the lease ends.
        var message = new OutboxMessage
        {
            Id = Guid.CreateVersion7().ToString("N"), WorkflowInstanceId = _run.Instance.Id, ActivityInstanceId = Record.Id,
            Channel = request.Channel, ConversationKey = request.ConversationKey, Payload = request.Payload, CreatedAt = now,
            Attempts = 1, NextAttemptAt = now + OutboxMessage.CommitLease,
        };
        _run.Outbox.Add(message);
        return message.Id;
    }
}
