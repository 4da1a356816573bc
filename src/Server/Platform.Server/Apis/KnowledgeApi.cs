using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Engine.Knowledge;
using Platform.Knowledge;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Knowledge bases under <c>/api/knowledge</c>: list, create and delete bases; upload (PUT, the raw file as the body, or POST
/// multipart/form-data with the field <c>file</c>),
/// replace and delete documents; search. Reading and searching need any role, changing needs Designer.
/// </summary>
public static class KnowledgeApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/knowledge";

    /// <summary>A base with its totals.</summary>
    public sealed record BaseResponse(string Name, string? Description, int Documents, int Chunks, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>A base with its documents.</summary>
    public sealed record BaseDetailResponse(string Name, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<DocumentResponse> Documents);

    /// <summary>A document.</summary>
    public sealed record DocumentResponse(string Name, string ContentType, string? Title, long Size, int Chunks, string Sha256, string? EmbeddingModel, DateTimeOffset UpdatedAt);

    /// <summary>The answer to an upload.</summary>
    public sealed record UploadResponse(DocumentResponse Document, bool Replaced, long ElapsedMs);

    /// <summary>A create request.</summary>
    public sealed record CreateRequest(string? Name, string? Description);

    /// <summary>One search hit: the combined score and its parts (cosine similarity, normalised keyword score).</summary>
    public sealed record HitResponse(string Text, string Source, string? Title, double Score, double Similarity, double Keyword);

    /// <summary>The answer to a search.</summary>
    public sealed record SearchResponse(string Query, IReadOnlyList<HitResponse> Hits, long ElapsedMs);

    /// <summary>The most hits one search answers.</summary>
    public const int MaxTop = 50;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapKnowledgeApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Knowledge");
        group.MapGet("/", ListAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapGet("/{name}", GetAsync);
        group.MapDelete("/{name}", DeleteAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapGet("/{name}/search", SearchAsync);
        group.MapPut("/{name}/documents/{document}", UploadAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapPost("/{name}/documents", UploadFormAsync).RequireAuthorization(ApiPolicies.Design).DisableAntiforgery();
        group.MapDelete("/{name}/documents/{document}", DeleteDocumentAsync).RequireAuthorization(ApiPolicies.Design);
        return app;
    }

    private static DocumentResponse ToResponse(KnowledgeDocumentInfo d) =>
        new(d.Name, d.ContentType, d.Title, d.Size, d.ChunkCount, d.Sha256, d.EmbeddingModel, d.UpdatedAt);

    private static ProblemHttpResult BaseNotFound(string name) =>
        Problems.NotFound($"The knowledge base '{name}' does not exist.", $"GET {Prefix} lists the knowledge bases; create one with POST {Prefix} {{\"name\": \"…\"}}.");

    /// <summary>GET /api/knowledge.</summary>
    public static async Task<Ok<List<BaseResponse>>> ListAsync(IKnowledgeStore store, CancellationToken ct)
    {
        var result = new List<BaseResponse>();
        foreach (var b in await store.ListBasesAsync(ct))
        {
            var docs = await store.ListDocumentsAsync(b.Name, ct);
            result.Add(new BaseResponse(b.Name, b.Description, docs.Count, docs.Sum(d => d.ChunkCount), b.CreatedAt, b.UpdatedAt));
        }
        return TypedResults.Ok(result);
    }

    /// <summary>POST /api/knowledge: 201, 400 on a bad name, 409 when it exists.</summary>
    public static async Task<Results<Created<BaseResponse>, ProblemHttpResult>> CreateAsync(CreateRequest? request, IKnowledgeStore store, CancellationToken ct)
    {
        var name = request?.Name;
        if (!KnowledgeService.IsValidBaseName(name))
            return Problems.BadRequest("The knowledge base name is not valid.", "Use 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit, e.g. {\"name\": \"handbook\"}.");
        if (request!.Description is { Length: > 1000 })
            return Problems.BadRequest("The description is too long.", "Keep the description under 1000 characters.");
        if (!await store.CreateBaseAsync(name!, request.Description, ct))
            return Problems.Conflict($"The knowledge base '{name}' already exists.", $"Upload documents into it with PUT {Prefix}/{name}/documents/{{file name}}, or pick another name.");
        var b = (await store.FindBaseAsync(name!, ct))!;
        return TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(b.Name)}", new BaseResponse(b.Name, b.Description, 0, 0, b.CreatedAt, b.UpdatedAt));
    }

    /// <summary>GET /api/knowledge/{name}: the base and its documents.</summary>
    public static async Task<Results<Ok<BaseDetailResponse>, ProblemHttpResult>> GetAsync(string name, IKnowledgeStore store, CancellationToken ct)
    {
        if (await store.FindBaseAsync(name, ct) is not { } b) return BaseNotFound(name);
        var docs = await store.ListDocumentsAsync(b.Name, ct);
        return TypedResults.Ok(new BaseDetailResponse(b.Name, b.Description, b.CreatedAt, b.UpdatedAt, docs.Select(ToResponse).ToList()));
    }

    /// <summary>DELETE /api/knowledge/{name}: 204 or 404; its documents and chunks go with it.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, KnowledgeService knowledge, CancellationToken ct) =>
        await knowledge.DeleteBaseAsync(name, ct) ? TypedResults.NoContent() : BaseNotFound(name);

    /// <summary>
    /// PUT /api/knowledge/{name}/documents/{document}: the body is the file (Markdown, text, HTML or PDF; the type comes from the
    /// document name's extension or the Content-Type). 201 when new, 200 when it replaced (re-indexed) a document of that name;
    /// 400 for an unreadable document, 404 for an unknown base, 413 when larger than <c>Platform:Knowledge:MaxUploadBytes</c>.
    /// </summary>
    public static async Task<Results<Created<UploadResponse>, Ok<UploadResponse>, ProblemHttpResult>> UploadAsync(string name, string document,
        HttpRequest request, KnowledgeService knowledge, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!KnowledgeService.IsValidDocumentName(document))
            return Problems.BadRequest("The document name is not valid.", "Use the file name (1-200 characters, no '/', '\\' or control characters), e.g. PUT .../documents/guide.md.");
        if (await knowledge.Store.FindBaseAsync(name, ct) is null) return BaseNotFound(name);
        var limit = knowledge.Options.MaxUploadBytes;
        if (request.ContentLength > limit) return TooLarge(document, request.ContentLength.Value, limit);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) return TooLarge(document, buffer.Length + read, limit);
            buffer.Write(chunk, 0, read);
        }
        try
        {
            var result = await knowledge.UploadAsync(name, document, request.ContentType, buffer.ToArray(), ct);
            var body = new UploadResponse(ToResponse(result.Document), result.Replaced, result.ElapsedMs);
            return result.Replaced ? TypedResults.Ok(body)
                : TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(name)}/documents/{Uri.EscapeDataString(document)}", body);
        }
        catch (KnowledgeInputException e)
        {
            return Problems.BadRequest("The document cannot be indexed.", e.Message);
        }
        catch (KeyNotFoundException)
        {
            return BaseNotFound(name);
        }
    }

    /// <summary>
    /// POST /api/knowledge/{name}/documents: a <c>multipart/form-data</c> upload (what a browser form or <c>curl -F file=@guide.md</c>
    /// sends) with the file in the form field <c>file</c>; the document is named after the file. Answers as the PUT does: 201 new,
    /// 200 replaced; 400 without a file or for an unreadable document (unknown type, not UTF-8, no text); 404 unknown base; 413 too
    /// large; 415 when the body is not a form.
    /// </summary>
    public static async Task<Results<Created<UploadResponse>, Ok<UploadResponse>, ProblemHttpResult>> UploadFormAsync(string name,
        HttpRequest request, KnowledgeService knowledge, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(loggers);
        var log = loggers.CreateLogger(typeof(KnowledgeApi).FullName!);
        if (!request.HasFormContentType)
        {
            log.LogInformation("Knowledge upload to {Base} refused: Content-Type {ContentType} is not a form", name, request.ContentType);
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "The upload is not a form.",
                detail: $"Send multipart/form-data with the file in the field 'file' (curl -F file=@guide.md {Prefix}/{name}/documents), or PUT the raw file to {Prefix}/{name}/documents/{{file name}}.");
        }
        if (await knowledge.Store.FindBaseAsync(name, ct) is null) return BaseNotFound(name);
        var limit = knowledge.Options.MaxUploadBytes;
        if (request.ContentLength > limit + 64 * 1024)
        {
            log.LogInformation("Knowledge upload to {Base} refused: the form has {Size} bytes, the limit is {Limit}", name, request.ContentLength, limit);
            return TooLarge("the form", request.ContentLength.Value, limit);
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new Microsoft.AspNetCore.Http.Features.FormOptions { MultipartBodyLengthLimit = limit + 64 * 1024, ValueLengthLimit = 64 * 1024 }, ct);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            log.LogInformation("Knowledge upload to {Base} refused: {Message}", name, e.Message);
            return TooLarge("the form", request.ContentLength ?? limit + 1, limit);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            log.LogInformation("Knowledge upload to {Base} refused: {Message}", name, e.Message);
            return TooLarge("the form", request.ContentLength ?? limit + 1, limit);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            log.LogInformation("Knowledge upload to {Base} refused: the form cannot be read ({Message})", name, e.Message);
            return Problems.BadRequest("The form cannot be read.", $"Send a valid multipart/form-data body with the file in the field 'file' ({e.Message}).");
        }
        var file = form.Files.GetFile("file");
        if (file is null)
        {
            log.LogInformation("Knowledge upload to {Base} refused: no form field 'file'", name);
            return Problems.BadRequest("The form has no file.", "Put the document into the form field 'file' (curl -F file=@guide.md …).");
        }
        var document = Path.GetFileName(file.FileName ?? "");
        if (!KnowledgeService.IsValidDocumentName(document))
            return Problems.BadRequest("The file name is not valid.", "Give the file a name of 1-200 characters without '/', '\\' or control characters, e.g. guide.md.");
        if (file.Length > limit)
        {
            log.LogInformation("Knowledge upload {Document} to {Base} refused: {Size} bytes, the limit is {Limit}", document, name, file.Length, limit);
            return TooLarge(document, file.Length, limit);
        }
        byte[] bytes;
        using (var buffer = new MemoryStream((int)file.Length))
        {
            await file.CopyToAsync(buffer, ct);
            bytes = buffer.ToArray();
        }
        try
        {
            var result = await knowledge.UploadAsync(name, document, file.ContentType, bytes, ct);
            var body = new UploadResponse(ToResponse(result.Document), result.Replaced, result.ElapsedMs);
            return result.Replaced ? TypedResults.Ok(body)
                : TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(name)}/documents/{Uri.EscapeDataString(document)}", body);
        }
        catch (KnowledgeInputException e)
        {
            log.LogInformation("Knowledge upload {Document} to {Base} refused: {Message}", document, name, e.Message);
            return Problems.BadRequest("The document cannot be indexed.", e.Message);
        }
        catch (KeyNotFoundException)
        {
            return BaseNotFound(name);
        }
    }

    private static ProblemHttpResult TooLarge(string document, long size, long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The document is too large.",
            detail: $"'{document}' is larger than {limit:N0} bytes (at least {size:N0}). Split it into smaller documents or raise Platform:Knowledge:MaxUploadBytes (and Platform:Api:MaxRequestBodySize).");

    /// <summary>DELETE /api/knowledge/{name}/documents/{document}: 204 or 404; its chunks are deleted.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteDocumentAsync(string name, string document, KnowledgeService knowledge, CancellationToken ct)
    {
        if (await knowledge.Store.FindBaseAsync(name, ct) is null) return BaseNotFound(name);
        return await knowledge.DeleteDocumentAsync(name, document, ct) ? TypedResults.NoContent()
            : Problems.NotFound($"The document '{document}' is not in the knowledge base '{name}'.", $"GET {Prefix}/{name} lists its documents.");
    }

    /// <summary>GET /api/knowledge/{name}/search?q=…&amp;top=5: the best chunks, best first (400 without q, 404 for an unknown base).</summary>
    public static async Task<Results<Ok<SearchResponse>, ProblemHttpResult>> SearchAsync(string name, string? q, int? top, KnowledgeService knowledge, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(q)) return Problems.BadRequest("The query is missing.", $"Add ?q=your question, e.g. GET {Prefix}/{name}/search?q=how+do+I+reset+my+password&top=5.");
        if (q.Length > 2000) return Problems.BadRequest("The query is too long.", "Keep the query under 2000 characters.");
        var n = top ?? 5;
        if (n is < 1 or > MaxTop) return Problems.BadRequest("top is out of range.", $"Set top from 1 to {MaxTop} (default 5).");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var hits = await knowledge.SearchDetailedAsync(name, q, n, ct);
            return TypedResults.Ok(new SearchResponse(q, hits.Select(h => new HitResponse(h.Chunk.Text, h.Chunk.Document, h.Chunk.Title,
                Math.Round(h.Score, 4), Math.Round(h.Similarity, 4), Math.Round(h.Keyword, 4))).ToList(), watch.ElapsedMilliseconds));
        }
        catch (KeyNotFoundException)
        {
            return BaseNotFound(name);
        }
    }
}
