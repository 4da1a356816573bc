using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class ConversationHandoffs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "conversation_handoffs",
                columns: table => new
                {
                    conversation_key = table.Column<string>(type: "text", nullable: false),
                    channel = table.Column<string>(type: "text", nullable: false),
                    workflow_instance_id = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    queue = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    timeout_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    assigned_to = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    assigned_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_conversation_handoffs", x => x.conversation_key);
                });

            migrationBuilder.CreateIndex(
                name: "ix_conversation_handoffs_created_at",
                table: "conversation_handoffs",
                column: "created_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "conversation_handoffs");
        }
    }
}
