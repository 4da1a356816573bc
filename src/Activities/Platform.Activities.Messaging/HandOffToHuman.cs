using Platform.Channels;

namespace Platform.Activities.Messaging;

/// <summary>
/// Hands the conversation to people: the bot stops answering it (its messages are stored and shown to agents on the Studio's
/// Conversations page), agents reply through the same channel, and the workflow goes on when an agent clicks
/// <c>Return to bot</c> (<see cref="ReturnedOutcome"/>) or nobody did so within <see cref="Timeout"/> (<see cref="TimedOutOutcome"/>).
/// Either way the conversation goes back to the bot.
/// </summary>
[Activity("Platform", "Messaging", "Hands the conversation to a person: the bot stops answering, agents reply from the Conversations page; Returned when an agent gives it back, TimedOut when nobody did in time.", DisplayName = "Hand Off To Human")]
[FlowNode(ReturnedOutcome, TimedOutOutcome)]
public sealed class HandOffToHuman : Activity
{
    /// <summary>An agent clicked <c>Return to bot</c>.</summary>
    public const string ReturnedOutcome = "Returned";

    /// <summary>Nobody returned the conversation within <see cref="Timeout"/>.</summary>
    public const string TimedOutOutcome = "TimedOut";

    /// <summary>The bookmark an agent's <c>Return to bot</c> resumes (key: the conversation key).</summary>
    public const string BookmarkName = "Platform.HandOffToHuman";

    /// <summary>The bookmark of the timeout (a durable timer, like Delay's).</summary>
    public const string TimeoutBookmarkName = BookmarkName + ".Timeout";

    /// <summary>Why the bot hands off; shown to the agents in the queue.</summary>
    [Input(Description = "Why the conversation needs a person, shown to the agents in the queue (e.g. 'Customer asks for a refund').", UIHint = UIHints.MultiLine, Order = 0)]
    public Input<string> Reason { get; set; } = new("");

    /// <summary>The queue (team) the conversation waits in.</summary>
    [Input(Description = "The queue (team) it waits in, e.g. support or sales. Empty: the default queue.", Order = 1)]
    public Input<string> Queue { get; set; } = new("");

    /// <summary>How long to wait for an agent to return the conversation; zero waits without a limit.</summary>
    [Input(Description = "How long people may keep the conversation: 00:10:00, 30s, 5m, 1h. When it passes without Return to bot, the TimedOut port is taken. Empty or 0: no limit.", Order = 2)]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.Zero);

    /// <summary>What the agent decided (the text typed with <c>Return to bot</c>).</summary>
    [Output(Description = "What the agent decided, as typed with Return to bot (empty on TimedOut).")]
    public Output<string> Decision { get; set; } = new();

    /// <summary>The agent's note.</summary>
    [Output(Description = "The agent's note for the bot (empty on TimedOut).")]
    public Output<string> Note { get; set; } = new();

    /// <summary>The user name of the agent who returned the conversation.</summary>
    [Output(Description = "The user name of the agent who returned the conversation (empty on TimedOut).")]
    public Output<string> Agent { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var conversation = context.Properties.TryGetValue(MessagingNames.ConversationProperty, out var c) ? c as string : null;
        var channel = context.Properties.TryGetValue(MessagingNames.ChannelProperty, out var ch) ? ch as string : null;
        if (string.IsNullOrEmpty(conversation) || string.IsNullOrEmpty(channel))
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Hand Off To Human hands a conversation to people, but this workflow was not started by a message. Start it with Message Received.",
                nonRetryable: true);
        var timeout = Timeout.Get(context);
        var reason = Reason.Get(context) is { Length: > 0 } r ? r.Trim() : null;
        var queue = Queue.Get(context) is { Length: > 0 } q ? q.Trim() : null;
        DateTimeOffset? timeoutAt = timeout > TimeSpan.Zero ? context.UtcNow + timeout : null;
        if (context.GetService(typeof(IConversationHandoffs)) is IConversationHandoffs handoffs)
            await handoffs.StartAsync(new ConversationHandoff
            {
                ConversationKey = conversation, Channel = channel, WorkflowInstanceId = context.WorkflowInstanceId, Reason = reason, Queue = queue,
                CreatedAt = context.UtcNow, TimeoutAt = timeoutAt,
            }, context.CancellationToken).ConfigureAwait(false);
        context.CreateBookmark(new BookmarkRequest(BookmarkName, conversation));
        if (timeoutAt is { } at) context.CreateBookmark(new BookmarkRequest(TimeoutBookmarkName) { ResumeAt = at });
        context.AddJournalData("conversation", conversation);
        if (queue is not null) context.AddJournalData("queue", queue);
    }

    /// <inheritdoc />
    protected override async ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        var conversation = context.Properties.TryGetValue(MessagingNames.ConversationProperty, out var c) ? c as string : null;
        if (!string.IsNullOrEmpty(conversation) && context.GetService(typeof(IConversationHandoffs)) is IConversationHandoffs handoffs)
            await handoffs.EndAsync(conversation, context.WorkflowInstanceId, context.CancellationToken).ConfigureAwait(false);
        if (context.ResumedBookmark?.Name == TimeoutBookmarkName)
        {
            // Nobody gave it back in time; the engine drops the agents' bookmark with this completion.
            Decision.Set(context, "");
            Note.Set(context, "");
            Agent.Set(context, "");
            context.Complete(TimedOutOutcome);
            return;
        }
        Decision.Set(context, context.ResumeInput.GetValueOrDefault("decision")?.ToString() ?? "");
        Note.Set(context, context.ResumeInput.GetValueOrDefault("note")?.ToString() ?? "");
        Agent.Set(context, context.ResumeInput.GetValueOrDefault("agent")?.ToString() ?? "");
        context.AddJournalData("agent", context.ResumeInput.GetValueOrDefault("agent")?.ToString());
        context.Complete(ReturnedOutcome);
    }
}
