using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Platform.Persistence.EFCore.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "triggers",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    definition_id = table.Column<string>(type: "text", nullable: false),
                    definition_version_id = table.Column<string>(type: "text", nullable: false),
                    activity_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    key = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_triggers", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "workflow_definitions",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    definition_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: true),
                    description = table.Column<string>(type: "text", nullable: true),
                    version = table.Column<int>(type: "integer", nullable: false),
                    is_latest = table.Column<bool>(type: "boolean", nullable: false),
                    is_published = table.Column<bool>(type: "boolean", nullable: false),
                    is_readonly = table.Column<bool>(type: "boolean", nullable: false),
                    is_system = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    tool_version = table.Column<string>(type: "text", nullable: false),
                    root = table.Column<string>(type: "json", nullable: false),
                    variables = table.Column<string>(type: "json", nullable: false),
                    inputs = table.Column<string>(type: "json", nullable: false),
                    outputs = table.Column<string>(type: "json", nullable: false),
                    outcomes = table.Column<string>(type: "json", nullable: false),
                    options = table.Column<string>(type: "json", nullable: false),
                    custom_properties = table.Column<string>(type: "json", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_workflow_definitions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "workflow_instances",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    definition_id = table.Column<string>(type: "text", nullable: false),
                    definition_version_id = table.Column<string>(type: "text", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "text", nullable: true),
                    correlation_id = table.Column<string>(type: "text", nullable: true),
                    status = table.Column<string>(type: "text", nullable: false),
                    sub_status = table.Column<string>(type: "text", nullable: false),
                    incident_count = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    parent_instance_id = table.Column<string>(type: "text", nullable: true),
                    state = table.Column<string>(type: "json", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_workflow_instances", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "activity_executions",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    workflow_instance_id = table.Column<string>(type: "text", nullable: false),
                    activity_id = table.Column<string>(type: "text", nullable: false),
                    activity_node_id = table.Column<string>(type: "text", nullable: false),
                    activity_type = table.Column<string>(type: "text", nullable: false),
                    activity_type_version = table.Column<int>(type: "integer", nullable: false),
                    activity_name = table.Column<string>(type: "text", nullable: true),
                    activity_state = table.Column<string>(type: "json", nullable: false),
                    payload = table.Column<string>(type: "json", nullable: false),
                    outputs = table.Column<string>(type: "json", nullable: false),
                    outcomes = table.Column<string>(type: "json", nullable: false),
                    exception = table.Column<string>(type: "json", nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    has_bookmarks = table.Column<bool>(type: "boolean", nullable: false),
                    status = table.Column<string>(type: "text", nullable: false),
                    sequence = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_activity_executions", x => x.id);
                    table.ForeignKey(
                        name: "fk_activity_executions_workflow_instances_workflow_instance_id",
                        column: x => x.workflow_instance_id,
                        principalTable: "workflow_instances",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "bookmarks",
                columns: table => new
                {
                    id = table.Column<string>(type: "text", nullable: false),
                    workflow_instance_id = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    key = table.Column<string>(type: "text", nullable: true),
                    activity_id = table.Column<string>(type: "text", nullable: false),
                    activity_instance_id = table.Column<string>(type: "text", nullable: false),
                    correlation_id = table.Column<string>(type: "text", nullable: true),
                    resume_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_bookmarks", x => x.id);
                    table.ForeignKey(
                        name: "fk_bookmarks_workflow_instances_workflow_instance_id",
                        column: x => x.workflow_instance_id,
                        principalTable: "workflow_instances",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_activity_executions_activity_node_id",
                table: "activity_executions",
                column: "activity_node_id");

            migrationBuilder.CreateIndex(
                name: "ix_activity_executions_workflow_instance_id_sequence",
                table: "activity_executions",
                columns: new[] { "workflow_instance_id", "sequence" });

            migrationBuilder.CreateIndex(
                name: "ix_bookmarks_name_key",
                table: "bookmarks",
                columns: new[] { "name", "key" });

            migrationBuilder.CreateIndex(
                name: "ix_bookmarks_resume_at",
                table: "bookmarks",
                column: "resume_at");

            migrationBuilder.CreateIndex(
                name: "ix_bookmarks_workflow_instance_id",
                table: "bookmarks",
                column: "workflow_instance_id");

            migrationBuilder.CreateIndex(
                name: "ix_triggers_definition_id",
                table: "triggers",
                column: "definition_id");

            migrationBuilder.CreateIndex(
                name: "ix_triggers_name_key",
                table: "triggers",
                columns: new[] { "name", "key" });

            migrationBuilder.CreateIndex(
                name: "ix_workflow_definitions_definition_id_version",
                table: "workflow_definitions",
                columns: new[] { "definition_id", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_workflow_definitions_is_latest",
                table: "workflow_definitions",
                column: "is_latest");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_definitions_is_published",
                table: "workflow_definitions",
                column: "is_published");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_definitions_name",
                table: "workflow_definitions",
                column: "name");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_instances_correlation_id",
                table: "workflow_instances",
                column: "correlation_id");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_instances_created_at",
                table: "workflow_instances",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_instances_definition_id",
                table: "workflow_instances",
                column: "definition_id");

            migrationBuilder.CreateIndex(
                name: "ix_workflow_instances_sub_status",
                table: "workflow_instances",
                column: "sub_status");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "activity_executions");

            migrationBuilder.DropTable(
                name: "bookmarks");

            migrationBuilder.DropTable(
                name: "triggers");

            migrationBuilder.DropTable(
                name: "workflow_definitions");

            migrationBuilder.DropTable(
                name: "workflow_instances");
        }
    }
}
