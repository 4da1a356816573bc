#!/usr/bin/env bash
# Adds a migration of the identity tables for BOTH providers (SQLite and PostgreSQL) from the current model.
# Usage: src/Server/Platform.Identity/add-migration.sh <MigrationName>. No database is needed.
set -euo pipefail
NAME=${1:?usage: add-migration.sh <MigrationName>}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
cd "$ROOT"
dotnet tool restore >/dev/null
export PlatformEfDesign=true
PROJECT=src/Server/Platform.Identity/Platform.Identity.csproj
dotnet build "$PROJECT" -v q -nologo
for provider in Sqlite PostgreSql; do
  dotnet ef migrations add "$NAME" --no-build --project "$PROJECT" --startup-project "$PROJECT" \
    --context "${provider}PlatformIdentityDbContext" --output-dir "Migrations/$provider"
done
unset PlatformEfDesign
dotnet restore "$PROJECT" -v q >/dev/null
echo "Added identity migration '$NAME' for Sqlite and PostgreSql under $HERE/Migrations."
