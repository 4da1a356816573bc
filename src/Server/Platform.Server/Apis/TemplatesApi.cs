using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities.AI;
using Platform.Engine.Contracts;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Workflow templates under <c>/api/templates</c> ("New from template" in the Studio): the list, and a new draft definition
/// made from one. The templates are listed by <c>workflows/templates/index.json</c> next to the server binary; each entry
/// points at a workflow file (the seed workflows in <c>workflows/</c> are templates too, from the same file) and, optionally,
/// at an intent set the template needs, created when the template is used and the set does not exist yet.
/// Listing needs any role; making a draft needs Designer (as saving workflow definitions does).
/// </summary>
public static class TemplatesApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/templates";

    /// <summary>A template as listed.</summary>
    /// <param name="Id">The id used in <c>POST /api/templates/{id}/instantiate</c>.</param>
    /// <param name="Name">The display name (and the default name of the draft).</param>
    /// <param name="Description">What the template does and what to change.</param>
    public sealed record TemplateResponse(string Id, string Name, string Description);

    /// <summary>The optional body of an instantiate request.</summary>
    /// <param name="Name">The new workflow's name; default the template's name.</param>
    public sealed record InstantiateRequest(string? Name);

    /// <summary>The draft made from a template.</summary>
    /// <param name="DefinitionId">The new definition's id (open it in the Studio at <c>/workflows/definitions/{id}/edit</c>).</param>
    /// <param name="Name">Its name.</param>
    /// <param name="TemplateId">The template it was made from.</param>
    /// <param name="IntentSetCreated">The intent set created for it, or null when none was needed or it existed.</param>
    public sealed record InstantiateResponse(string DefinitionId, string Name, string TemplateId, string? IntentSetCreated);

    private sealed record IndexEntry(string Id, string Name, string Description, string File, string? IntentSet);
    private sealed record IndexFile(List<IndexEntry>? Templates);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The folder the templates are read from: <c>workflows/templates</c> next to the server binary.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "workflows", "templates");

    /// <summary>Maps the template endpoints.</summary>
    public static IEndpointRouteBuilder MapTemplatesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Templates");
        group.MapGet("/", ListAsync);
        group.MapPost("/{id}/instantiate", InstantiateAsync).RequireAuthorization(ApiPolicies.Design);
        return app;
    }

    private static async Task<List<IndexEntry>> ReadIndexAsync(CancellationToken ct)
    {
        var path = Path.Combine(Folder, "index.json");
        if (!File.Exists(path)) return [];
        await using var stream = File.OpenRead(path);
        return (await JsonSerializer.DeserializeAsync<IndexFile>(stream, Json, ct))?.Templates ?? [];
    }

    /// <summary>Lists the templates.</summary>
    public static async Task<Ok<List<TemplateResponse>>> ListAsync(CancellationToken ct) =>
        TypedResults.Ok((await ReadIndexAsync(ct)).Select(t => new TemplateResponse(t.Id, t.Name, t.Description)).ToList());

    /// <summary>Creates a new draft workflow definition from template <paramref name="id"/>, with a fresh definition id.</summary>
    public static async Task<Results<Created<InstantiateResponse>, ProblemHttpResult>> InstantiateAsync(string id, HttpRequest http,
        IWorkflowDefinitionService definitions, IIntentSetStore intentSets, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(TemplatesApi));
        var template = (await ReadIndexAsync(ct)).FirstOrDefault(t => string.Equals(t.Id, id, StringComparison.OrdinalIgnoreCase));
        if (template is null)
        {
            logger.LogInformation("Template {TemplateId} asked for but not found", id);
            return Problems.NotFound($"There is no template '{id}'.", "GET /api/templates lists the templates; use one of their ids.");
        }

        InstantiateRequest? body = null;
        if (http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0)
        {
            try { body = await JsonSerializer.DeserializeAsync<InstantiateRequest>(http.Body, Json, ct); }
            catch (JsonException e)
            {
                logger.LogInformation("Instantiate {TemplateId}: body is not JSON ({Error})", id, e.Message);
                return Problems.BadRequest("The body is not valid JSON.", "Send {\"name\": \"My workflow\"} or no body at all.");
            }
        }
        var name = string.IsNullOrWhiteSpace(body?.Name) ? template.Name : body.Name.Trim();
        if (name.Length > 200) return Problems.BadRequest("The name is too long.", "Use a name of at most 200 characters.");

        if (JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Folder, template.File), ct)) is not JsonObject model)
            throw new InvalidOperationException($"Template '{template.Id}' ({template.File}) does not hold a workflow definition.");

        string? created = null;
        if (template.IntentSet is { Length: > 0 } setFile)
        {
            await using var stream = File.OpenRead(Path.Combine(Folder, setFile));
            var set = await JsonSerializer.DeserializeAsync<IntentSet>(stream, JsonFileIntentSetStore.Json, ct)
                ?? throw new InvalidOperationException($"Template '{template.Id}': {setFile} holds no intent set.");
            if (await intentSets.FindAsync(set.Id, ct) is null)
            {
                var now = clock.GetUtcNow();
                await intentSets.SaveAsync(set with { Version = 1, CreatedAt = now, UpdatedAt = now }, ct);
                created = set.Id;
            }
        }

        var definitionId = template.Id + "-" + Guid.NewGuid().ToString("N")[..8];
        model["definitionId"] = definitionId;
        model["name"] = name;
        model["version"] = 1;
        model.Remove("id");
        model.Remove("isPublished");
        model.Remove("isLatest");
        var result = await definitions.SaveAsync(model, publish: false, ct);
        logger.LogInformation("Created draft {DefinitionId} from template {TemplateId}", result.Definition.DefinitionId, template.Id);
        return TypedResults.Created($"/elsa/api/workflow-definitions/by-definition-id/{Uri.EscapeDataString(definitionId)}",
            new InstantiateResponse(definitionId, name, template.Id, created));
    }
}
