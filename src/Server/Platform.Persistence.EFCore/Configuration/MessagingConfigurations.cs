using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore.Configuration;

// The inbox and outbox rows are the engine's own models (plain classes, no behaviour), mapped directly.

internal sealed class InboxMessageConfiguration : IEntityTypeConfiguration<InboxMessage>
{
    public void Configure(EntityTypeBuilder<InboxMessage> b)
    {
        b.ToTable("inbox_messages");
        b.HasKey(x => x.Id);
        b.Property(x => x.Payload).IsJsonText();
        b.HasIndex(x => x.DeduplicationKey).IsUnique();
        b.HasIndex(x => new { x.Status, x.ReceivedAt });
        // Conversations: a thread in time order, and the newest activity per conversation (IConversationStore).
        b.HasIndex(x => new { x.ConversationKey, x.ReceivedAt });
        b.HasIndex(x => new { x.Channel, x.ReceivedAt });
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> b)
    {
        b.ToTable("outbox_messages");
        b.HasKey(x => x.Id);
        b.Property(x => x.Payload).IsJsonText();
        b.HasIndex(x => new { x.Status, x.NextAttemptAt });
        // Retention: sent and dead-lettered messages older than the cut-off, in batches (EfDataRetention).
        b.HasIndex(x => new { x.Status, x.CreatedAt });
        b.HasIndex(x => new { x.ConversationKey, x.CreatedAt });
        b.Property(x => x.TraceParent).HasMaxLength(64);
        b.HasIndex(x => x.WorkflowInstanceId);
        // Delivery reports that name no outbox row are matched by the service's message id.
        b.HasIndex(x => new { x.Channel, x.ProviderMessageIds });
    }
}

internal sealed class ChannelConfiguration : IEntityTypeConfiguration<ChannelEntity>
{
    public void Configure(EntityTypeBuilder<ChannelEntity> b)
    {
        b.ToTable("channels");
        b.HasKey(x => x.Name);
        b.Property(x => x.Settings).IsJsonText();
    }
}

internal sealed class ConversationHandoffConfiguration : IEntityTypeConfiguration<ConversationHandoffEntity>
{
    public void Configure(EntityTypeBuilder<ConversationHandoffEntity> b)
    {
        b.ToTable("conversation_handoffs");
        b.HasKey(x => x.ConversationKey);
        b.Property(x => x.Reason).HasMaxLength(2000);
        b.Property(x => x.Queue).HasMaxLength(200);
        b.Property(x => x.AssignedTo).HasMaxLength(256);
        b.HasIndex(x => x.CreatedAt); // the queue, longest waiting first
    }
}
