using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Packs;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Activity packs under <c>/api/packs</c>: list (any role); install, upgrade, enable, disable and remove (Admin only).
/// Changes apply at once, without a restart, and reach the other nodes within the configuration refresh interval.
/// </summary>
public static class PacksApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/packs";

    /// <summary>Install by id from the configured feeds (<c>Platform:Packs:Sources</c>).</summary>
    /// <param name="Id">The package id.</param>
    /// <param name="Version">The version; none for the newest stable.</param>
    public sealed record InstallRequest(string? Id, string? Version);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapPacksApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Packs");
        group.MapGet("/", List);
        group.MapGet("/{id}", Get);
        group.MapPost("/", InstallAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapPost("/inspect", InspectAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapPost("/{id}/enable", (string id, PackManager packs, HttpContext context, ILogger<PackManager> log, CancellationToken ct) => SetEnabledAsync(id, true, packs, context, log, ct)).RequireAuthorization(ApiPolicies.Admin);
        group.MapPost("/{id}/disable", (string id, PackManager packs, HttpContext context, ILogger<PackManager> log, CancellationToken ct) => SetEnabledAsync(id, false, packs, context, log, ct)).RequireAuthorization(ApiPolicies.Admin);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiPolicies.Admin);
        return app;
    }

    /// <summary>GET /api/packs: id, version, state, manifest, permissions, activity types and load errors of every pack.</summary>
    public static Ok<IReadOnlyList<PackInfo>> List(PackManager packs) => TypedResults.Ok(packs.List());

    /// <summary>GET /api/packs/{id}.</summary>
    public static Results<Ok<PackInfo>, ProblemHttpResult> Get(string id, PackManager packs) =>
        packs.Find(id) is { } p ? TypedResults.Ok(p) : Problems.NotFound($"The pack '{id}' is not installed.", "List the installed packs with GET /api/packs.");

    /// <summary>
    /// POST /api/packs: a multipart form with the .nupkg as field <c>file</c>, or JSON <c>{"id": "...", "version": "..."}</c> to
    /// install from the configured feeds. 201 for a new pack, 200 for an upgrade (or the same package again).
    /// </summary>
    public static async Task<Results<Created<PackInfo>, Ok<PackInfo>, ProblemHttpResult>> InstallAsync(HttpRequest request, PackManager packs,
        ClaimsPrincipal user, ILogger<PackManager> log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var audit = PackManager.RecordChangesTo(change => Audit(request.HttpContext, change));
        try
        {
            (PackInfo Pack, bool Created) result;
            if (request.HasFormContentType)
            {
                var (bytes, refused) = await ReadUploadAsync(request, log, ct);
                if (bytes is null) return refused!;
                result = await packs.InstallAsync(bytes, user.Identity?.Name, "upload", ct);
            }
            else if (request.HasJsonContentType())
            {
                InstallRequest? body;
                try
                {
                    body = await request.ReadFromJsonAsync<InstallRequest>(ct);
                }
                catch (JsonException e)
                {
                    return Problems.BadRequest("The body is not valid JSON.", $"Send {{\"id\": \"Acme.Weather\", \"version\": \"1.0.0\"}}. {e.Message}");
                }
                if (string.IsNullOrWhiteSpace(body?.Id))
                    return Problems.BadRequest("The request names no pack id.", "Send {\"id\": \"Acme.Weather\", \"version\": \"1.0.0\"} (version optional).");
                result = await packs.InstallFromFeedAsync(body.Id.Trim(), body.Version?.Trim(), user.Identity?.Name, ct);
            }
            else
            {
                return Problems.BadRequest("Send a .nupkg or a pack id.",
                    "Use multipart/form-data with the .nupkg as field 'file', or application/json {\"id\": \"Acme.Weather\", \"version\": \"1.0.0\"}.");
            }
            return result.Created ? TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(result.Pack.Id)}", result.Pack) : TypedResults.Ok(result.Pack);
        }
        catch (PackException e)
        {
            return Problem(e, log);
        }
    }

    /// <summary>What <c>POST /api/packs/inspect</c> answers: the package as read, and the installed version of its id, if any.</summary>
    /// <param name="Manifest">The pack.json manifest: id, version, display name, description, author, SDK range, isolation and permissions.</param>
    /// <param name="Sha512">The package's SHA-512 (lower-case hex), as the install would record it.</param>
    /// <param name="Assemblies">The assemblies it would load.</param>
    /// <param name="Signature">Signed or not, by whom, and whether this server accepts it.</param>
    /// <param name="InstalledVersion">The version of this id installed now, or null.</param>
    /// <param name="InstalledState"><c>Enabled</c>, <c>Disabled</c> or <c>Failed</c> for the installed version, or null.</param>
    public sealed record InspectResponse(PackManifest Manifest, string Sha512, IReadOnlyList<string> Assemblies, PackSignatureState Signature,
        string? InstalledVersion, string? InstalledState);

    /// <summary>
    /// POST /api/packs/inspect: a multipart form with the .nupkg as field <c>file</c>. Reads its manifest, permissions, SHA-512 and
    /// signature without installing or loading anything, so that the Studio can show what the pack may reach before it is enabled.
    /// 400 with what to fix for a file that is not a valid pack.
    /// </summary>
    public static async Task<Results<Ok<InspectResponse>, ProblemHttpResult>> InspectAsync(HttpRequest request, PackManager packs,
        IOptions<PackOptions> options, ILogger<PackManager> log, CancellationToken ct)
    {
        if (!request.HasFormContentType)
            return Problems.BadRequest("Send the .nupkg as a multipart form.", "Use multipart/form-data with the .nupkg as field 'file', e.g. curl -F file=@Acme.Weather.1.0.0.nupkg.");
        try
        {
            var (bytes, refused) = await ReadUploadAsync(request, log, ct);
            if (bytes is null) return refused!;
            var inspection = await PackInspector.InspectAsync(bytes, options.Value.TrustedCertificateFingerprints, ct);
            var installed = packs.Find(inspection.Manifest.Id);
            return TypedResults.Ok(new InspectResponse(inspection.Manifest, inspection.Sha512, inspection.Assemblies, inspection.Signature,
                installed?.Version, installed?.State));
        }
        catch (InvalidDataException e)
        {
            log.LogWarning("Pack inspection refused: the form cannot be read: {Message}", e.Message);
            return Problems.BadRequest("The form cannot be read.", $"Send a multipart form with the .nupkg as field 'file'. {e.Message}");
        }
        catch (PackException e)
        {
            return Problem(e, log);
        }
    }

    private static async Task<Results<Ok<PackInfo>, ProblemHttpResult>> SetEnabledAsync(string id, bool enabled, PackManager packs, HttpContext context,
        ILogger<PackManager> log, CancellationToken ct)
    {
        using var audit = PackManager.RecordChangesTo(change => Audit(context, change));
        try
        {
            return TypedResults.Ok(await packs.SetEnabledAsync(id, enabled, context.User.Identity?.Name, ct));
        }
        catch (PackException e)
        {
            return Problem(e, log);
        }
    }

    /// <summary>DELETE /api/packs/{id}: 204; the pack's activities leave the palette and its code is unloaded.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, PackManager packs, ClaimsPrincipal user,
        ILogger<PackManager> log, HttpContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        using var audit = PackManager.RecordChangesTo(change => Audit(context, change));
        try
        {
            await packs.RemoveAsync(id, user.Identity?.Name, ct);
            return TypedResults.NoContent();
        }
        catch (PackException e)
        {
            return Problem(e, log);
        }
    }

    /// <summary>Puts a pack change into the request's audit entry (written once, by the audit middleware).</summary>
    /// <summary>The .nupkg of a multipart form's field <c>file</c>, or the 400 that says what to send instead.</summary>
    private static async Task<(byte[]? Bytes, ProblemHttpResult? Refused)> ReadUploadAsync(HttpRequest request, ILogger log, CancellationToken ct)
    {
        var form = await request.ReadFormAsync(ct);
        var file = form.Files.GetFile("file");
        if (file is null)
            return (null, Problems.BadRequest("The form has no field 'file'.", "Send the .nupkg as the multipart form field 'file', e.g. curl -F file=@Acme.Weather.1.0.0.nupkg."));
        if (file.Length > PackPackage.MaxSize)
            return (null, Problems.BadRequest("The package is larger than 50 MB.", "Leave large data out of the pack."));
        using var ms = new MemoryStream();
        await file.CopyToAsync(ms, ct);
        var bytes = ms.ToArray();
        if (PackPackage.LooksLikeZip(bytes)) return (bytes, null);
        log.LogWarning("Pack upload refused: {File} is not a zip file", file.FileName);
        return (null, Problems.BadRequest($"'{file.FileName}' is not a NuGet package (not a zip file).", "Choose the .nupkg that dotnet pack wrote for the pack project."));
    }

    private static void Audit(HttpContext context, PackChange change)
    {
        AuditMiddleware.AddDetail(context, "pack", change.Action);
        AuditMiddleware.AddDetail(context, "packId", change.Id);
        AuditMiddleware.AddDetail(context, "version", change.Version);
        if (change.PreviousVersion is not null) AuditMiddleware.AddDetail(context, "previousVersion", change.PreviousVersion);
        AuditMiddleware.AddDetail(context, "sha512", change.Sha512);
        AuditMiddleware.AddDetail(context, "source", change.Source);
        if (change.Signer is not null) AuditMiddleware.AddDetail(context, "signer", change.Signer);
    }

    private static ProblemHttpResult Problem(PackException e, ILogger log)
    {
        log.LogWarning("Pack request refused: {Message} {Fix}", e.Message, e.Fix);
        return e.Code switch
        {
            "not-found" => Problems.NotFound(e.Message, e.Fix),
            "conflict" => Problems.Conflict(e.Message, e.Fix),
            _ => Problems.BadRequest(e.Message, e.Fix),
        };
    }
}
