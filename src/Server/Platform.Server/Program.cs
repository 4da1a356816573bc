using Platform.Server.Apis;
using Platform.Server.Extensions;
using Platform.Server.Observability;
using Platform.Studio;

if (await ServerCommands.TryRunAsync(args)) return; // backup, restore, rotate-secrets, eval-intents

var builder = WebApplication.CreateBuilder(args);

builder.AddPlatform();
builder.AddPlatformObservability(); // metrics, probes, JSON logs, traces (docs/operations.md)

var app = builder.Build();

app.UsePlatform();
app.MapHealthApi();
app.MapPlatformObservability();
app.MapDiagnosticsApi();
app.MapWorkflowApi();
app.MapHttpWorkflows();
app.MapDataSourcesApi();
app.MapChannelsApi();
app.MapChannelHealthApi(); // channel health and test messages (docs/channels.md)
app.MapAttachmentsApi(); // attachment upload and download (docs/channels.md)
app.MapConversationsApi();
app.MapChannelInboundApi();
app.MapChatAppInboundApi();
app.MapWebhookChannelApi();
app.MapWeChatChannelApi(); // WeChat, WeCom, Feishu callbacks
app.MapChatApi(); // also adds the WebSocket middleware
app.MapIntentsApi();
app.MapStudio();
app.MapDevicesApi();
app.MapTestConsoleApi();
app.MapPacksApi();
app.MapTemplatesApi();
app.MapKeysApi();
app.MapAuthApi(); // sign-in, single sign-on, first-start link (docs/security.md)
app.MapUsersApi();
app.MapAuditApi();
app.MapHandoffsApi(); // human hand-off: the agents' queue, replies and Return to bot (docs/channels.md)
app.MapKnowledgeApi(); // knowledge bases and search (docs/ai.md)
app.MapSecretsApi(); // secret key rotation (docs/security.md)

app.Run();

/// <summary>The server host's entry point; public and partial so that tests can use <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
