#!/usr/bin/env bash
# Adds a migration for BOTH providers (SQLite and PostgreSQL) from the current model.
# Usage: src/Server/Platform.Persistence.EFCore/add-migration.sh <MigrationName>
# Uses the dotnet-ef local tool (.config/dotnet-tools.json). No database is needed.
set -euo pipefail
NAME=${1:?usage: add-migration.sh <MigrationName>}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
cd "$ROOT"
dotnet tool restore >/dev/null
# Pulls in Microsoft.EntityFrameworkCore.Design for this build only (see the csproj).
export PlatformEfDesign=true
PROJECT=src/Server/Platform.Persistence.EFCore/Platform.Persistence.EFCore.csproj
dotnet build "$PROJECT" -v q -nologo
for provider in Sqlite PostgreSql; do
  dotnet ef migrations add "$NAME" --no-build --project "$PROJECT" --startup-project "$PROJECT" \
    --context "${provider}PlatformDbContext" --output-dir "Migrations/$provider"
done
# Back to the normal (design-package-free) restore.
unset PlatformEfDesign
dotnet restore "$PROJECT" -v q >/dev/null
echo "Added migration '$NAME' for Sqlite and PostgreSql under $HERE/Migrations."
