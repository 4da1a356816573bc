using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore.Configuration;

internal sealed class WorkflowDefinitionConfiguration : IEntityTypeConfiguration<WorkflowDefinitionEntity>
{
    public void Configure(EntityTypeBuilder<WorkflowDefinitionEntity> b)
    {
        b.ToTable("workflow_definitions");
        b.HasKey(x => x.Id);
        b.Property(x => x.Root).IsJsonText();
        b.Property(x => x.Variables).IsJsonText();
        b.Property(x => x.Inputs).IsJsonText();
        b.Property(x => x.Outputs).IsJsonText();
        b.Property(x => x.Outcomes).IsJsonText();
        b.Property(x => x.Options).IsJsonText();
        b.Property(x => x.CustomProperties).IsJsonText();
        b.HasIndex(x => new { x.DefinitionId, x.Version }).IsUnique();
        b.HasIndex(x => x.IsLatest);
        b.HasIndex(x => x.IsPublished);
        b.HasIndex(x => x.Name);
    }
}

internal sealed class WorkflowInstanceConfiguration : IEntityTypeConfiguration<WorkflowInstanceEntity>
{
    public void Configure(EntityTypeBuilder<WorkflowInstanceEntity> b)
    {
        b.ToTable("workflow_instances");
        b.HasKey(x => x.Id);
        b.Property(x => x.State).IsJsonText();
        b.HasIndex(x => x.DefinitionId);
        b.HasIndex(x => x.CorrelationId);
        b.HasIndex(x => x.SubStatus);
        b.HasIndex(x => x.CreatedAt);
        // Retention: finished, cancelled and faulted instances older than the cut-off, in batches (EfDataRetention).
        b.HasIndex(x => new { x.SubStatus, x.UpdatedAt });
    }
}

internal sealed class BookmarkConfiguration : IEntityTypeConfiguration<BookmarkEntity>
{
    public void Configure(EntityTypeBuilder<BookmarkEntity> b)
    {
        b.ToTable("bookmarks");
        b.HasKey(x => x.Id);
        b.HasOne<WorkflowInstanceEntity>().WithMany().HasForeignKey(x => x.WorkflowInstanceId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.Name, x.Key });
        b.HasIndex(x => x.WorkflowInstanceId);
        b.HasIndex(x => x.ResumeAt);
    }
}

internal sealed class TriggerConfiguration : IEntityTypeConfiguration<TriggerEntity>
{
    public void Configure(EntityTypeBuilder<TriggerEntity> b)
    {
        b.ToTable("triggers");
        b.HasKey(x => x.Id);
        b.HasIndex(x => new { x.Name, x.Key });
        b.HasIndex(x => x.DefinitionId);
    }
}

internal sealed class ActivityExecutionConfiguration : IEntityTypeConfiguration<ActivityExecutionEntity>
{
    public void Configure(EntityTypeBuilder<ActivityExecutionEntity> b)
    {
        b.ToTable("activity_executions");
        b.HasKey(x => x.Id);
        b.Property(x => x.ActivityState).IsJsonText();
        b.Property(x => x.Payload).IsJsonText();
        b.Property(x => x.Outputs).IsJsonText();
        b.Property(x => x.Outcomes).IsJsonText();
        b.Property(x => x.Exception).IsJsonText();
        b.HasOne<WorkflowInstanceEntity>().WithMany().HasForeignKey(x => x.WorkflowInstanceId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.WorkflowInstanceId, x.Sequence });
        b.HasIndex(x => x.ActivityNodeId);
    }
}

internal sealed class ConfigurationDocumentConfiguration : IEntityTypeConfiguration<ConfigurationDocumentEntity>
{
    public void Configure(EntityTypeBuilder<ConfigurationDocumentEntity> b)
    {
        b.ToTable("configuration_documents");
        b.HasKey(x => new { x.Kind, x.Key });
        b.Property(x => x.Id).IsRequired();
        b.Property(x => x.Json).IsJsonText();
    }
}

internal sealed class AuditLogConfiguration : IEntityTypeConfiguration<AuditLogEntity>
{
    public void Configure(EntityTypeBuilder<AuditLogEntity> b)
    {
        b.ToTable("audit_log");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).ValueGeneratedOnAdd();
        b.Property(x => x.Action).HasMaxLength(200);
        b.Property(x => x.Actor).HasMaxLength(200);
        b.Property(x => x.ActorKind).HasMaxLength(16);
        b.Property(x => x.IpAddress).HasMaxLength(64);
        b.Property(x => x.TargetType).HasMaxLength(100);
        b.Property(x => x.TargetId).HasMaxLength(200);
        b.Property(x => x.Outcome).HasMaxLength(16);
        b.Property(x => x.Details).IsJsonText();
        b.HasIndex(x => x.Timestamp);
        b.HasIndex(x => new { x.Actor, x.Id });
        b.HasIndex(x => new { x.TargetType, x.TargetId });
    }
}
