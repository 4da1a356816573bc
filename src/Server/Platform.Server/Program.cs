using Platform.Server.Apis;
using Platform.Server.Extensions;
using Platform.Studio;

var builder = WebApplication.CreateBuilder(args);

builder.AddPlatform();

var app = builder.Build();

app.UsePlatform();
app.MapHealthApi();
app.MapWorkflowApi();
app.MapHttpWorkflows();
app.MapDataSourcesApi();
app.MapStudio();

app.Run();

/// <summary>The server host's entry point; public and partial so that tests can use <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
