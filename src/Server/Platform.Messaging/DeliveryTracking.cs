using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>The delivery status of outgoing messages, read from the outbox.</summary>
public sealed class OutboxDeliveryStatus(IOutboxStore outbox) : IMessageDeliveryStatus
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<DeliveryStatus>> GetAsync(IReadOnlyList<string> messageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var result = new List<DeliveryStatus>(messageIds.Count);
        foreach (var id in messageIds)
        {
            var m = await outbox.FindAsync(id, cancellationToken).ConfigureAwait(false);
            result.Add(m is null ? new DeliveryStatus(id, DeliveryStatus.Unknown, "The outbox has no such message.")
                : m.Status == OutboxStatus.Sent ? new DeliveryStatus(id, DeliveryStatus.Sent, null)
                : m.Status == OutboxStatus.DeadLettered ? new DeliveryStatus(id, DeliveryStatus.Failed, m.LastError)
                : new DeliveryStatus(id, DeliveryStatus.Pending, m.LastError));
        }
        return result;
    }
}

/// <summary>
/// Wakes a Send Message that waits for its deliveries whenever one of its messages is sent or dead-lettered; the activity
/// reads where all of them stand and waits again until the last one is final. A wake-up that finds its bookmark gone
/// (another one got there first and the activity is waiting again under a new bookmark) looks again, so the last delivery
/// is never missed. A node that dies in between leaves the activity to its delivery timeout.
/// </summary>
public sealed class DeliveryWatcher(OutboxDispatcher dispatcher, IBookmarkStore bookmarks, IWorkflowRuntime runtime, ILogger<DeliveryWatcher> logger)
    : IHostedService
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        dispatcher.Attempted += OnAttempted;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        dispatcher.Attempted -= OnAttempted;
        return Task.CompletedTask;
    }

    private void OnAttempted(OutboxMessage message)
    {
        if (message.ActivityInstanceId is null || message.Status == OutboxStatus.Pending
            || !OutgoingEnvelope.RequestsDeliveryNotice(message.Payload)) return;
        _ = Task.Run(() => WakeAsync(message.ActivityInstanceId));
    }

    private async Task WakeAsync(string activityInstanceId)
    {
        try
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var waiting = await bookmarks.FindAsync(MessagingNames.DeliveryBookmark, activityInstanceId).ConfigureAwait(false);
                if (waiting.Count == 0) return; // completed (or never waited)
                try
                {
                    await runtime.ResumeAsync(new ResumeWorkflowRequest(waiting[0].WorkflowInstanceId, waiting[0].Id)).ConfigureAwait(false);
                    return;
                }
                catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
                {
                    logger.LogDebug("Delivery bookmark {Bookmark} was taken meanwhile ({Message}); looking again.", waiting[0].Id, e.Message);
                    await Task.Delay(Math.Min(1000, 100 * (attempt + 1))).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e)
        {
            logger.LogError(e, "Waking the Send Message {Activity} after a delivery failed; its delivery timeout will resume it.", activityInstanceId);
        }
    }
}
