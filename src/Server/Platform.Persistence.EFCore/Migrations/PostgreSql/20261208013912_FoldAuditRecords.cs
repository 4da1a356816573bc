using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class FoldAuditRecords : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The old audit records (device commands, pack changes) become entries of the one audit trail before the table goes.
            migrationBuilder.Sql("""
                INSERT INTO audit_log ("timestamp", action, actor, actor_kind, ip_address, target_type, target_id, outcome, status, details)
                SELECT at,
                    CASE kind WHEN 'device-commands' THEN 'device.command'
                              WHEN 'packs' THEN left('pack.' || COALESCE("json" ->> 'action', 'change'), 200)
                              ELSE left(kind, 200) END,
                    left(CASE kind WHEN 'packs' THEN "json" ->> 'by' ELSE "json" ->> 'actor' END, 200),
                    CASE WHEN kind = 'packs' THEN (CASE WHEN "json" ->> 'by' IS NULL THEN 'system' ELSE 'user' END)
                         ELSE left(COALESCE("json" ->> 'actorKind', 'system'), 16) END,
                    NULL,
                    CASE kind WHEN 'device-commands' THEN 'devices' ELSE left(kind, 100) END,
                    left(CASE kind WHEN 'device-commands' THEN COALESCE("json" ->> 'deviceId', "json" ->> 'device')
                                   WHEN 'packs' THEN "json" ->> 'id' END, 200),
                    CASE WHEN kind <> 'device-commands' THEN 'success'
                         WHEN "json" ->> 'result' IN ('Done', 'ConfirmationRequired') THEN 'success'
                         WHEN "json" ->> 'result' = 'Rejected' THEN 'denied'
                         ELSE 'failed' END,
                    0, "json"
                FROM audit_records
                ORDER BY at, id;
                """);

            migrationBuilder.DropTable(
                name: "audit_records");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_records",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    json = table.Column<string>(type: "json", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_records", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_audit_records_kind_at",
                table: "audit_records",
                columns: new[] { "kind", "at" });
        }
    }
}
