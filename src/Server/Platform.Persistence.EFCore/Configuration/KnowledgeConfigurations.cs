using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore.Configuration;

internal sealed class KnowledgeBaseConfiguration : IEntityTypeConfiguration<KnowledgeBaseEntity>
{
    public void Configure(EntityTypeBuilder<KnowledgeBaseEntity> b)
    {
        b.ToTable("knowledge_bases");
        b.HasKey(x => x.Key);
        b.Property(x => x.Name).IsRequired();
    }
}

internal sealed class KnowledgeDocumentConfiguration : IEntityTypeConfiguration<KnowledgeDocumentEntity>
{
    public void Configure(EntityTypeBuilder<KnowledgeDocumentEntity> b)
    {
        b.ToTable("knowledge_documents");
        b.HasKey(x => new { x.BaseKey, x.Key });
        b.Property(x => x.Name).IsRequired();
        b.Property(x => x.ContentType).IsRequired();
        b.Property(x => x.Sha256).IsRequired();
    }
}

internal sealed class KnowledgeChunkConfiguration : IEntityTypeConfiguration<KnowledgeChunkEntity>
{
    public void Configure(EntityTypeBuilder<KnowledgeChunkEntity> b)
    {
        b.ToTable("knowledge_chunks");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).ValueGeneratedOnAdd();
        b.Property(x => x.Text).IsRequired();
        b.Property(x => x.Vector).IsRequired();
        b.HasIndex(x => new { x.BaseKey, x.DocumentKey, x.Ordinal });
    }
}
