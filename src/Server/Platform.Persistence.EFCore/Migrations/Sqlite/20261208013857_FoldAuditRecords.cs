using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.Sqlite
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
                              WHEN 'packs' THEN substr('pack.' || COALESCE(json_extract(json, '$.action'), 'change'), 1, 200)
                              ELSE substr(kind, 1, 200) END,
                    substr(CASE kind WHEN 'packs' THEN json_extract(json, '$.by') ELSE json_extract(json, '$.actor') END, 1, 200),
                    CASE WHEN kind = 'packs' THEN (CASE WHEN json_extract(json, '$.by') IS NULL THEN 'system' ELSE 'user' END)
                         ELSE substr(COALESCE(json_extract(json, '$.actorKind'), 'system'), 1, 16) END,
                    NULL,
                    CASE kind WHEN 'device-commands' THEN 'devices' ELSE substr(kind, 1, 100) END,
                    substr(CASE kind WHEN 'device-commands' THEN COALESCE(json_extract(json, '$.deviceId'), json_extract(json, '$.device'))
                                     WHEN 'packs' THEN json_extract(json, '$.id') END, 1, 200),
                    CASE WHEN kind <> 'device-commands' THEN 'success'
                         WHEN json_extract(json, '$.result') IN ('Done', 'ConfirmationRequired') THEN 'success'
                         WHEN json_extract(json, '$.result') = 'Rejected' THEN 'denied'
                         ELSE 'failed' END,
                    0, json
                FROM audit_records
                WHERE json_valid(json)
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
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    at = table.Column<string>(type: "TEXT", nullable: false),
                    json = table.Column<string>(type: "TEXT", nullable: false),
                    kind = table.Column<string>(type: "TEXT", nullable: false)
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
