using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities.AI;
using Platform.Server.Extensions;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Intent sets under <c>/api/intents</c>: CRUD and <c>POST /api/intents/{id}/test</c>. A set is trained when it is saved
/// (milliseconds) and cached per version; every set is also the activity type <c>Platform.RecognizeIntent.{id}</c>.
/// Reading and testing need any role; changing needs Designer.
/// </summary>
public static class IntentsApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/intents";

    /// <summary>An intent set as sent by a client. Omitted lists are empty.</summary>
    public sealed record IntentSetRequest(string? Id, string? Name, string? Description, List<IntentRequest?>? Intents,
        List<string?>? OutOfScopeExamples, List<EntityRequest?>? Entities, List<string?>? BuiltInEntities, string? TimeZone, double? Threshold);

    /// <summary>An intent as sent by a client; <c>required</c> (optional) lists the entities it needs, with their questions.</summary>
    public sealed record IntentRequest(string? Name, List<string?>? Examples, string? Description, List<SlotRequest?>? Required = null);

    /// <summary>A required entity of an intent and the question that asks for it: <c>{"entity": "room", "prompt": "Which room?"}</c>.</summary>
    public sealed record SlotRequest(string? Entity, string? Prompt);

    /// <summary>An entity as sent by a client: <c>kind</c> list (values) or regex (pattern).</summary>
    public sealed record EntityRequest(string? Name, string? Kind, List<EntityValueRequest?>? Values, string? Pattern);

    /// <summary>A list entity value with synonyms.</summary>
    public sealed record EntityValueRequest(string? Value, List<string?>? Synonyms);

    /// <summary>A test request.</summary>
    public sealed record TestRequest(string? Text);

    /// <summary>An intent and its confidence.</summary>
    public sealed record Alternative(string Intent, double Confidence);

    /// <summary>An entity found in the text.</summary>
    public sealed record EntityResponse(string Name, string Kind, string Text, int Start, int Length, object? Value);

    /// <summary>What the set made of the text.</summary>
    /// <param name="Intent">The intent, or <c>OutOfScope</c>.</param>
    /// <param name="Confidence">The best intent's confidence (0-1).</param>
    /// <param name="OutOfScope">True when no intent was confident enough.</param>
    /// <param name="TopIntent">The best intent even when out of scope.</param>
    /// <param name="Threshold">The out-of-scope threshold in use.</param>
    /// <param name="Alternatives">The top three intents.</param>
    /// <param name="Entities">The entities found.</param>
    /// <param name="Version">The set version that answered.</param>
    /// <param name="Embeddings">The embedding model's state (Ready, Building, Disabled, Failed…); without it n-grams only are used.</param>
    public sealed record TestResponse(string Intent, double Confidence, bool OutOfScope, string TopIntent, double Threshold,
        List<Alternative> Alternatives, List<EntityResponse> Entities, int Version, string Embeddings);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapIntentsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Intents");
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapPut("/{id}", UpdateAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiPolicies.Design);
        // The body holds one message: a small request size limit keeps a 10 MB "test" from being read at all.
        group.MapPost("/{id}/test", TestAsync).WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxTestBodyBytes));
        return app;
    }

    /// <summary>GET /api/intents.</summary>
    public static async Task<Ok<IReadOnlyList<IntentSet>>> ListAsync(IIntentSetStore store, CancellationToken ct) =>
        TypedResults.Ok(await store.ListAsync(ct));

    /// <summary>GET /api/intents/{id}.</summary>
    public static async Task<Results<Ok<IntentSet>, ProblemHttpResult>> GetAsync(string id, IIntentSetStore store, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } s ? TypedResults.Ok(s) : NotFound(id);

    /// <summary>POST /api/intents: 201, 400 when the set is not valid, 409 when the id is taken.</summary>
    public static async Task<Results<Created<IntentSet>, ProblemHttpResult>> CreateAsync(IntentSetRequest request, IIntentSetStore store,
        IntentSetModels models, IntentActivityTypes types, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!IntentSetRules.IsValidName(request.Id))
            return Problems.BadRequest($"The intent set id '{request.Id}' is not valid.", "Set id to 1-64 letters, digits, '_' or '-', starting with a letter (e.g. assistant).");
        if (await store.FindAsync(request.Id!, ct) is not null)
            return Problems.Conflict($"The intent set '{request.Id}' already exists.", $"Update it with PUT {Prefix}/{request.Id} or pick another id.");
        var now = clock.GetUtcNow();
        var set = ToSet(request, request.Id!) with { Version = 1, CreatedAt = now, UpdatedAt = now };
        if (Invalid(set, loggers) is { } problem) return problem;
        await store.SaveAsync(set, ct);
        await types.RefreshAsync(set.Id);
        await models.GetAsync(set, ct);
        return TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(set.Id)}", set);
    }

    /// <summary>PUT /api/intents/{id}: creates or replaces the set (201 or 200); the version increases.</summary>
    public static async Task<Results<Ok<IntentSet>, Created<IntentSet>, ProblemHttpResult>> UpdateAsync(string id, IntentSetRequest request,
        IIntentSetStore store, IntentSetModels models, IntentActivityTypes types, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!IntentSetRules.IsValidName(id))
            return Problems.BadRequest($"The intent set id '{id}' is not valid.", "Use 1-64 letters, digits, '_' or '-', starting with a letter (e.g. assistant).");
        if (request.Id is not null && !string.Equals(request.Id, id, StringComparison.OrdinalIgnoreCase))
            return Problems.BadRequest("The id in the body differs from the id in the URL.", "Renaming is not supported: create a new set and delete the old one.");
        var existing = await store.FindAsync(id, ct);
        var now = clock.GetUtcNow();
        var set = ToSet(request, existing?.Id ?? id) with
        {
            Version = (existing?.Version ?? 0) + 1, CreatedAt = existing?.CreatedAt ?? now, UpdatedAt = now,
        };
        if (Invalid(set, loggers) is { } problem) return problem;
        await store.SaveAsync(set, ct);
        await types.RefreshAsync(set.Id);
        await models.GetAsync(set, ct);
        return existing is null ? TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(set.Id)}", set) : TypedResults.Ok(set);
    }

    /// <summary>DELETE /api/intents/{id}: 204 or 404.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, IIntentSetStore store, IntentActivityTypes types, CancellationToken ct)
    {
        if (!await store.DeleteAsync(id, ct)) return NotFound(id);
        await types.RefreshAsync(id);
        return TypedResults.NoContent();
    }

    /// <summary>The largest body <c>POST /api/intents/{id}/test</c> reads (64 KB); a larger one is a 413.</summary>
    public const int MaxTestBodyBytes = 64 * 1024;

    /// <summary>
    /// POST /api/intents/{id}/test {"text": "…"}: the intent, confidence, top-3 alternatives, out of scope and entities.
    /// The text is cleaned like a channel message and may be at most <c>Platform:Messaging:MaxMessageLength</c> characters
    /// (413 otherwise); recognition stops when the client goes away.
    /// </summary>
    public static async Task<Results<Ok<TestResponse>, ProblemHttpResult>> TestAsync(string id, TestRequest request, IntentSetModels models,
        TimeProvider clock, Microsoft.Extensions.Options.IOptions<Platform.Messaging.MessagingOptions> messaging, ILoggerFactory loggers, CancellationToken ct)
    {
        var text = Platform.Channels.InboundText.Normalize(request.Text);
        if (string.IsNullOrWhiteSpace(text))
            return Problems.BadRequest("The text is missing.", "Send {\"text\": \"turn on the kitchen light\"}.");
        var max = messaging.Value.MaxMessageLength;
        if (text.Length > max)
        {
            loggers.CreateLogger(typeof(IntentsApi)).LogWarning("Intent test of {Set} refused: the text has {Length} characters, over {Max}.", id, text.Length, max);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The text is too long.",
                detail: $"The text has {text.Length} characters; at most {max} are accepted, as for any channel message (Platform:Messaging:MaxMessageLength). Test a shorter text.");
        }
        if (await models.GetAsync(id, ct) is not { } trained) return NotFound(id);
        var r = await trained.RecognizeAsync(text, clock.GetUtcNow(), ct);
        return TypedResults.Ok(new TestResponse(r.Intent, Math.Round(r.Confidence, 4), r.OutOfScope, r.TopIntent, Math.Round(trained.Classifier.Threshold, 4),
            r.Alternatives.Select(a => new Alternative(a.Intent, Math.Round(a.Confidence, 4))).ToList(),
            r.Matches.Select(m => new EntityResponse(m.Name, m.Kind, m.Text, m.Start, m.Length, m.Value)).ToList(),
            trained.Set.Version, models.Embeddings.State.ToString()));
    }

    private static IntentSet ToSet(IntentSetRequest r, string id) => new()
    {
        Id = id,
        Name = string.IsNullOrWhiteSpace(r.Name) ? null : r.Name.Trim(),
        Description = r.Description,
        Intents = (r.Intents ?? []).Select(i => new IntentDefinition
        {
            Name = i?.Name?.Trim() ?? "",
            Examples = Clean(i?.Examples),
            Description = i?.Description,
            Required = (i?.Required ?? []).Where(r => r is not null)
                .Select(r => new IntentSlot { Entity = r!.Entity?.Trim() ?? "", Prompt = string.IsNullOrWhiteSpace(r.Prompt) ? null : r.Prompt.Trim() }).ToList(),
        }).ToList(),
        OutOfScopeExamples = Clean(r.OutOfScopeExamples),
        Entities = (r.Entities ?? []).Select(e => new IntentEntityDefinition
        {
            Name = e?.Name?.Trim() ?? "",
            Kind = string.IsNullOrWhiteSpace(e?.Kind) ? (string.IsNullOrWhiteSpace(e?.Pattern) ? IntentEntityKinds.List : IntentEntityKinds.Regex) : e.Kind.Trim().ToLowerInvariant(),
            Values = (e?.Values ?? []).Select(v => new IntentEntityValue { Value = v?.Value?.Trim() ?? "", Synonyms = Clean(v?.Synonyms) }).ToList(),
            Pattern = string.IsNullOrWhiteSpace(e?.Pattern) ? null : e.Pattern,
        }).ToList(),
        BuiltInEntities = r.BuiltInEntities?.Where(b => !string.IsNullOrWhiteSpace(b)).Select(b => b!.Trim().ToLowerInvariant()).Distinct().ToList(),
        TimeZone = string.IsNullOrWhiteSpace(r.TimeZone) ? null : r.TimeZone.Trim(),
        Threshold = r.Threshold,
    };

    private static List<string> Clean(List<string?>? items) =>
        (items ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim()).Distinct(StringComparer.Ordinal).ToList();

    private static ProblemHttpResult? Invalid(IntentSet set, ILoggerFactory loggers)
    {
        var problems = IntentSetRules.Validate(set);
        if (problems.Count == 0) return null;
        loggers.CreateLogger("Platform.Server.Intents").LogInformation("Intent set {Id} rejected: {Problems}", set.Id, string.Join(" ", problems));
        return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
            title: problems.Count == 1 ? problems[0] : $"The intent set '{set.Id}' is not valid ({problems.Count} problems).",
            detail: string.Join(" ", problems),
            extensions: new Dictionary<string, object?> { ["errors"] = problems });
    }

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"The intent set '{id}' was not found.", $"GET {Prefix} lists the intent sets; ids are case-insensitive.");
}
