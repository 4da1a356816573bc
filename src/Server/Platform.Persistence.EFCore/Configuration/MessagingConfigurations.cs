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
        b.HasIndex(x => x.ConversationKey);
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
        b.HasIndex(x => x.ConversationKey);
        b.HasIndex(x => x.WorkflowInstanceId);
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
