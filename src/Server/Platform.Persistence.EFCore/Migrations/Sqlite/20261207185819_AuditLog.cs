using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditLog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    timestamp = table.Column<string>(type: "TEXT", nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    actor = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    actor_kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ip_address = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    target_type = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    target_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    status = table.Column<int>(type: "INTEGER", nullable: false),
                    details = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_log", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_actor_id",
                table: "audit_log",
                columns: new[] { "actor", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_target_type_target_id",
                table: "audit_log",
                columns: new[] { "target_type", "target_id" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_timestamp",
                table: "audit_log",
                column: "timestamp");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_log");
        }
    }
}
