# syntax=docker/dockerfile:1
# Multi-stage build of the platform server (with the Elsa Studio bundle).
#   docker build -t platform-server .
#   docker run -p 5000:5000 -v platform-data:/data platform-server
# docker-compose.yml runs it with PostgreSQL.

# ---- build: .NET SDK + Node.js (the Platform.Studio build runs `npm ci` for the Elsa Studio bundle) ----
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 npm_config_audit=false npm_config_fund=false
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
# Published for the image's architecture so that it is precompiled (ReadyToRun, see Platform.Server.csproj).
ARG TARGETARCH
RUN dotnet publish src/Server/Platform.Server/Platform.Server.csproj -c Release -a "${TARGETARCH:-amd64}" --self-contained false \
    -o /app -p:UseAppHost=false

# ---- runtime: ASP.NET Core only ----
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
WORKDIR /app
COPY --from=build /app ./
# The data directory (SQLite database, generated admin key) lives in a volume owned by the non-root 'app' user.
RUN mkdir -p /data && chown "$APP_UID" /data
VOLUME /data
# Logs: one JSON object per line (docs/operations.md#logs); set Logging__Format=text for readable lines.
ENV ASPNETCORE_HTTP_PORTS=5000 \
    Platform__DataDirectory=/data \
    Platform__Demo__Enabled=true \
    Logging__Format=json
EXPOSE 5000
USER $APP_UID
ENTRYPOINT ["dotnet", "Platform.Server.dll"]
