using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class RetentionIndexesAndOutboxTrace : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "trace_parent",
                table: "outbox_messages",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_workflow_instances_sub_status_updated_at",
                table: "workflow_instances",
                columns: new[] { "sub_status", "updated_at" });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_status_created_at",
                table: "outbox_messages",
                columns: new[] { "status", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_workflow_instances_sub_status_updated_at",
                table: "workflow_instances");

            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_status_created_at",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "trace_parent",
                table: "outbox_messages");
        }
    }
}
