using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

// Conversations (IConversationStore) and delivery reports on outbox rows (IOutboxStore.RecordDeliveryStatusAsync), on each provider.
public abstract partial class PersistenceContractTests
{
    protected IConversationStore Conversations => Services.GetRequiredService<IConversationStore>();

    private static InboxMessage In(string id, string channel, string conversation, string text, int minute) => new()
    {
        Id = id, DeduplicationKey = $"{channel}:{id}", Channel = channel, ConversationKey = conversation,
        Payload = $$"""{"text":"{{text}}"}""", ReceivedAt = T0.AddMinutes(minute),
    };

    private static OutboxMessage Out(string id, string channel, string? conversation, string text, int minute, string? instanceId = null) => new()
    {
        Id = id, WorkflowInstanceId = instanceId, Channel = channel, ConversationKey = conversation, Payload = $$"""{"text":"{{text}}"}""",
        CreatedAt = T0.AddMinutes(minute), NextAttemptAt = T0.AddMinutes(minute),
    };

    [Fact]
    public async Task Should_ListConversationsNewestActivityFirstWithCountsAndLastMessage_When_MessagesWentBothWays()
    {
        // Arrange: a (two in, one out, newest a reply), b (one in, newest), c on another channel, and a message with no conversation.
        await Inbox.AddAsync(In("a1", "web", "webchat:web:a", "hello", 1), Ct);
        await Outbox.AddAsync([Out("a2", "web", "webchat:web:a", "hi there", 2)], Ct);
        await Inbox.AddAsync(In("a3", "web", "webchat:web:a", "thanks", 3), Ct);
        await Outbox.AddAsync([Out("a4", "web", "webchat:web:a", "you're welcome", 4)], Ct);
        await Inbox.AddAsync(In("b1", "web", "webchat:web:b", "anyone?", 5), Ct);
        await Inbox.AddAsync(In("c1", "sms", "sms:sms:+15550001", "text me", 6), Ct);
        await Outbox.AddAsync([Out("x1", "web", null, "broadcast", 7)], Ct);

        // Act
        var all = await Conversations.ListAsync(null, new PageArgs(0, 10), Ct);
        var web = await Conversations.ListAsync("web", new PageArgs(0, 1), Ct);
        var secondWebPage = await Conversations.ListAsync("web", new PageArgs(1, 1), Ct);

        // Assert
        Assert.Equal(3, all.TotalCount);
        Assert.Equal(["sms:sms:+15550001", "webchat:web:b", "webchat:web:a"], all.Items.Select(c => c.Key));
        var a = all.Items[2];
        Assert.Equal(("web", 2L, 2L, MessageDirection.Out), (a.Channel, a.InboundCount, a.OutboundCount, a.LastDirection));
        Assert.Equal("""{"text":"you're welcome"}""", a.LastPayload);
        Assert.Equal(T0.AddMinutes(4), a.LastActivityAt);
        Assert.Equal(MessageDirection.In, all.Items[1].LastDirection);
        Assert.Equal(2, web.TotalCount);
        Assert.Equal("webchat:web:b", Assert.Single(web.Items).Key);
        Assert.Equal("webchat:web:a", Assert.Single(secondWebPage.Items).Key);
    }

    [Fact]
    public async Task Should_ReturnTheNewestMessagesOfOneConversationInTimeOrder_When_AThreadIsRead()
    {
        await Inbox.AddAsync(In("m1", "web", "webchat:web:t", "one", 1), Ct);
        await Outbox.AddAsync([Out("m2", "web", "webchat:web:t", "two", 2, "instance-1")], Ct);
        await Inbox.AddAsync(In("m3", "web", "webchat:web:t", "three", 3), Ct);
        await Inbox.AddAsync(In("m4", "web", "webchat:web:t", "four", 4), Ct);
        await Inbox.AddAsync(In("other", "web", "webchat:web:other", "elsewhere", 5), Ct);

        var thread = await Conversations.GetAsync("webchat:web:t", 2, Ct);
        var missing = await Conversations.GetAsync("webchat:web:nobody", 2, Ct);

        Assert.NotNull(thread);
        Assert.Equal(("web", 3L, 1L), (thread.Channel, thread.InboundCount, thread.OutboundCount));
        Assert.Equal(["m3", "m4"], thread.Inbound.Select(m => m.Id));
        Assert.Equal("instance-1", Assert.Single(thread.Outbound).WorkflowInstanceId);
        Assert.Null(missing);
    }

    [Fact]
    public async Task Should_MoveTheDeliveryStatusOnlyForward_When_ReportsArriveOutOfOrder()
    {
        // Arrange: a sent message with the service's id.
        await Outbox.AddAsync([Out("o1", "sms", "sms:sms:+1555", "hello", 1)], Ct);
        var sent = (await Outbox.FindAsync("o1", Ct))!;
        sent.Status = OutboxStatus.Sent;
        sent.SentAt = T0.AddMinutes(1);
        sent.ProviderMessageIds = "SM1";
        await Outbox.UpdateAsync(sent, Ct);
        DeliveryStatusUpdate Report(string status, string? outboxId = "o1", string channel = "sms", string sid = "SM1") => new()
        {
            Channel = channel, OutboxMessageId = outboxId, ProviderMessageId = sid, Status = status, At = T0.AddMinutes(2),
        };

        // Act
        var delivered = await Outbox.RecordDeliveryStatusAsync(Report("delivered", outboxId: null), Ct);
        var lateSent = await Outbox.RecordDeliveryStatusAsync(Report("sent"), Ct);
        var otherChannel = await Outbox.RecordDeliveryStatusAsync(Report("failed", channel: "sms-2"), Ct);
        var unknownSid = await Outbox.RecordDeliveryStatusAsync(Report("failed", outboxId: null, sid: "SMunknown"), Ct);

        // Assert
        Assert.Equal("delivered", delivered!.DeliveryStatus);
        Assert.Equal(T0.AddMinutes(2), delivered.DeliveryUpdatedAt);
        Assert.Equal("delivered", lateSent!.DeliveryStatus);
        Assert.Null(otherChannel);
        Assert.Null(unknownSid);
        Assert.Equal(("SM1", OutboxStatus.Sent), ((await Outbox.FindAsync("o1", Ct))!.ProviderMessageIds, (await Outbox.FindAsync("o1", Ct))!.Status));
    }

    [Fact]
    public async Task Should_KeepTheFailureAndItsReason_When_AMessageIsReportedUndelivered()
    {
        await Outbox.AddAsync([Out("o1", "sms", "sms:sms:+1555", "hello", 1)], Ct);
        var report = new DeliveryStatusUpdate
        {
            Channel = "sms", OutboxMessageId = "o1", ProviderMessageId = "SM1", Status = "undelivered", ErrorCode = "30003",
            Error = "Twilio: undelivered, error 30003", At = T0.AddMinutes(2),
        };

        await Outbox.RecordDeliveryStatusAsync(report, Ct);
        // The dispatcher saves its attempt after the report came in: the report's fields and reason stay.
        var attempt = (await Outbox.FindAsync("o1", Ct))!;
        attempt.Status = OutboxStatus.Sent;
        attempt.LastError = null;
        attempt.DeliveryStatus = null;
        attempt.ProviderMessageIds = "SM1";
        await Outbox.UpdateAsync(attempt, Ct);
        await Outbox.RecordDeliveryStatusAsync(report with { Status = "delivered", ErrorCode = null, Error = null }, Ct);

        var row = (await Outbox.FindAsync("o1", Ct))!;
        Assert.Equal(("undelivered", "30003", "Twilio: undelivered, error 30003"), (row.DeliveryStatus, row.DeliveryErrorCode, row.LastError));
        Assert.Equal(("SM1", OutboxStatus.Sent), (row.ProviderMessageIds, row.Status));
    }
}
