using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ConversationsAndDeliveryReports : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_conversation_key",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_inbox_messages_conversation_key",
                table: "inbox_messages");

            migrationBuilder.AddColumn<string>(
                name: "delivery_error_code",
                table: "outbox_messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "delivery_status",
                table: "outbox_messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "delivery_updated_at",
                table: "outbox_messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "provider_message_ids",
                table: "outbox_messages",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_channel_provider_message_ids",
                table: "outbox_messages",
                columns: new[] { "channel", "provider_message_ids" });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_conversation_key_created_at",
                table: "outbox_messages",
                columns: new[] { "conversation_key", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_inbox_messages_channel_received_at",
                table: "inbox_messages",
                columns: new[] { "channel", "received_at" });

            migrationBuilder.CreateIndex(
                name: "ix_inbox_messages_conversation_key_received_at",
                table: "inbox_messages",
                columns: new[] { "conversation_key", "received_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_channel_provider_message_ids",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_outbox_messages_conversation_key_created_at",
                table: "outbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_inbox_messages_channel_received_at",
                table: "inbox_messages");

            migrationBuilder.DropIndex(
                name: "ix_inbox_messages_conversation_key_received_at",
                table: "inbox_messages");

            migrationBuilder.DropColumn(
                name: "delivery_error_code",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "delivery_status",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "delivery_updated_at",
                table: "outbox_messages");

            migrationBuilder.DropColumn(
                name: "provider_message_ids",
                table: "outbox_messages");

            migrationBuilder.CreateIndex(
                name: "ix_outbox_messages_conversation_key",
                table: "outbox_messages",
                column: "conversation_key");

            migrationBuilder.CreateIndex(
                name: "ix_inbox_messages_conversation_key",
                table: "inbox_messages",
                column: "conversation_key");
        }
    }
}
