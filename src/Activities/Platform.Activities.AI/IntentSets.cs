using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Platform.Activities;

namespace Platform.Activities.AI;

/// <summary>
/// A set of intents taught by example sentences, with optional entities. Workflows reference it by <see cref="Id"/>;
/// each set also becomes the activity type <c>Platform.RecognizeIntent.{Id}</c> with one port per intent.
/// </summary>
/// <example><code>
/// {
///   "id": "assistant",
///   "name": "Home assistant",
///   "intents": [
///     { "name": "device_on", "examples": ["turn on the kitchen light", "switch the fan on", "lights on please"] },
///     { "name": "device_off", "examples": ["turn off the kitchen light", "switch the fan off", "lights off please"] }
///   ],
///   "entities": [
///     { "name": "room", "kind": "list", "values": [{ "value": "kitchen", "synonyms": ["cooking area"] }] },
///     { "name": "order_number", "kind": "regex", "pattern": "\\bORD-(?&lt;value&gt;\\d{6})\\b" }
///   ],
///   "threshold": null
/// }
/// </code></example>
public sealed record IntentSet
{
    /// <summary>The id workflows use: 1-64 letters, digits, '_' or '-', starting with a letter.</summary>
    public required string Id { get; init; }

    /// <summary>The display name; defaults to the id.</summary>
    public string? Name { get; init; }

    /// <summary>A note for analysts.</summary>
    public string? Description { get; init; }

    /// <summary>The intents; each needs at least <see cref="IntentSetRules.MinExamples"/> examples.</summary>
    public IReadOnlyList<IntentDefinition> Intents { get; init; } = [];

    /// <summary>"Not this" sentences: requests that look close but are out of scope. Optional.</summary>
    public IReadOnlyList<string> OutOfScopeExamples { get; init; } = [];

    /// <summary>List and regex entities.</summary>
    public IReadOnlyList<IntentEntityDefinition> Entities { get; init; } = [];

    /// <summary>The built-in entities to look for: <c>number</c> and/or <c>datetime</c>. Null means both.</summary>
    public IReadOnlyList<string>? BuiltInEntities { get; init; }

    /// <summary>The IANA or Windows time zone relative dates resolve in (default UTC).</summary>
    public string? TimeZone { get; init; }

    /// <summary>A fixed out-of-scope threshold (0-1) on the confidence; null calibrates it from the examples.</summary>
    public double? Threshold { get; init; }

    /// <summary>How the set uses a transformer model: <c>"transformer"</c> or <c>"fast"</c> (the transformer distilled
    /// into a static table); null takes <c>Platform:AI:Embeddings:DefaultSetEmbeddings</c>. Ignored with GloVe.</summary>
    public string? Embeddings { get; init; }

    /// <summary>Increases on every save; trained models are cached per version.</summary>
    public int Version { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The display name, or the id.</summary>
    [JsonIgnore]
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? Id : Name!;
}

/// <summary>An intent: its name (which is also the port name) and example sentences.</summary>
public sealed record IntentDefinition
{
    /// <summary>The name: 1-64 letters, digits, '_' or '-', starting with a letter, for example <c>device_on</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Example sentences (at least three).</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>A note for analysts.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// The entities this intent cannot do without (slots), in the order they are asked for. When the text lacks one,
    /// <c>RecognizeIntent</c> completes on <c>MissingSlot</c> with the slot's question, and the next text it gets is
    /// searched for the missing entity. Optional: an intent without required entities is routed at once.
    /// </summary>
    public IReadOnlyList<IntentSlot> Required { get; init; } = [];
}

/// <summary>A required entity of an intent and the question that asks for it, e.g. <c>{ "entity": "room", "prompt": "Which room?" }</c>.</summary>
public sealed record IntentSlot
{
    /// <summary>The entity name: a list or regex entity of the set, or the built-in <c>number</c> or <c>datetime</c>.</summary>
    public required string Entity { get; init; }

    /// <summary>The question that asks for it; null asks "Please tell me the {entity}." (underscores become spaces).</summary>
    public string? Prompt { get; init; }

    /// <summary>The question to ask: <see cref="Prompt"/>, or the default question.</summary>
    [JsonIgnore]
    public string Question => string.IsNullOrWhiteSpace(Prompt) ? $"Please tell me the {Entity.Replace('_', ' ').Replace('-', ' ')}." : Prompt.Trim();
}

/// <summary>An entity of an intent set: a closed list with synonyms, or a regular expression.</summary>
public sealed record IntentEntityDefinition
{
    /// <summary>The entity name; a workflow variable of the same name receives the value.</summary>
    public required string Name { get; init; }

    /// <summary><c>list</c> or <c>regex</c>.</summary>
    public string Kind { get; init; } = IntentEntityKinds.List;

    /// <summary>For list entities: the canonical values with their synonyms.</summary>
    public IReadOnlyList<IntentEntityValue> Values { get; init; } = [];

    /// <summary>For regex entities: a .NET pattern (case-insensitive); the group <c>value</c>, if any, is the value.</summary>
    public string? Pattern { get; init; }
}

/// <summary>A canonical value of a list entity and the words that mean it.</summary>
public sealed record IntentEntityValue
{
    /// <summary>The canonical value (what the workflow receives).</summary>
    public required string Value { get; init; }

    /// <summary>Other ways to say it.</summary>
    public IReadOnlyList<string> Synonyms { get; init; } = [];
}

/// <summary>The kinds of <see cref="IntentEntityDefinition"/>.</summary>
public static class IntentEntityKinds
{
    /// <summary>A closed list of values with synonyms.</summary>
    public const string List = "list";

    /// <summary>A regular expression.</summary>
    public const string Regex = "regex";
}

/// <summary>Validation of intent sets, with messages that say how to fix the set.</summary>
public static partial class IntentSetRules
{
    /// <summary>The fewest examples an intent may have.</summary>
    public const int MinExamples = 3;

    /// <summary>The port taken when no intent is confident enough.</summary>
    public const string OutOfScopeOutcome = "OutOfScope";

    /// <summary>The port taken when the recognised intent lacks a required entity (see <see cref="IntentDefinition.Required"/>);
    /// only sets with required entities have it.</summary>
    public const string MissingSlotOutcome = "MissingSlot";

    /// <summary>The activity type name prefix of per-set RecognizeIntent types.</summary>
    public const string TypeNamePrefix = "Platform.RecognizeIntent.";

    /// <summary>True for a valid set id, intent or entity name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>The activity type name of a set: <c>Platform.RecognizeIntent.{id}</c>.</summary>
    public static string TypeNameOf(string setId) => TypeNamePrefix + setId;

    /// <summary>Returns the problems of a set (empty when it is valid).</summary>
    public static IReadOnlyList<string> Validate(IntentSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var problems = new List<string>();
        if (!IsValidName(set.Id))
            problems.Add($"The intent set id '{set.Id}' is not valid: use 1-64 letters, digits, '_' or '-', starting with a letter.");
        if (set.Intents.Count == 0)
            problems.Add("The intent set has no intents: add at least one intent with at least 3 example sentences.");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var intent in set.Intents)
        {
            if (!IsValidName(intent.Name))
            {
                problems.Add($"The intent name '{intent.Name}' is not valid: use 1-64 letters, digits, '_' or '-', starting with a letter (e.g. device_on).");
                continue;
            }
            if (string.Equals(intent.Name, OutOfScopeOutcome, StringComparison.OrdinalIgnoreCase) || Platform.Intents.Classification.IntentNames.IsOutOfScope(intent.Name))
                problems.Add($"The intent name '{intent.Name}' is reserved for the out-of-scope port: put such sentences into outOfScopeExamples.");
            if (string.Equals(intent.Name, MissingSlotOutcome, StringComparison.OrdinalIgnoreCase))
                problems.Add($"The intent name '{intent.Name}' is reserved for the port that asks for a missing entity: choose another name.");
            if (!seen.Add(intent.Name)) problems.Add($"The intent '{intent.Name}' appears twice: merge the examples into one intent.");
            var examples = intent.Examples.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Count();
            if (examples < MinExamples)
                problems.Add($"The intent '{intent.Name}' has {examples} distinct example sentence(s): add at least {MinExamples} (more, varied ones give better results).");
        }
        if (set.Threshold is { } t && (t < 0 || t > 1 || double.IsNaN(t)))
            problems.Add($"The threshold {t} is not valid: use a number between 0 and 1, or null to calibrate it from the examples.");
        if (!IntentSetEmbeddings.IsValid(set.Embeddings))
            problems.Add($"The embeddings mode '{set.Embeddings}' is unknown: use \"transformer\", \"fast\", or leave it out for the configured default.");
        if (set.TimeZone is { Length: > 0 } tz && !TimeZoneInfo.TryFindSystemTimeZoneById(tz, out _))
            problems.Add($"The time zone '{tz}' is unknown: use an IANA id such as Europe/Berlin or Asia/Shanghai.");
        foreach (var b in set.BuiltInEntities ?? [])
            if (b is not ("number" or "datetime")) problems.Add($"The built-in entity '{b}' is unknown: use number and/or datetime.");
        var known = new HashSet<string>(set.Entities.Select(e => e.Name).Concat(set.BuiltInEntities ?? ["number", "datetime"]), StringComparer.Ordinal);
        foreach (var intent in set.Intents)
        {
            var required = new HashSet<string>(StringComparer.Ordinal);
            foreach (var slot in intent.Required)
            {
                if (string.IsNullOrWhiteSpace(slot.Entity))
                    problems.Add($"The intent '{intent.Name}' has a required entity without a name: give its entity, e.g. {{\"entity\": \"room\", \"prompt\": \"Which room?\"}}.");
                else if (!known.Contains(slot.Entity))
                    problems.Add($"The intent '{intent.Name}' requires the entity '{slot.Entity}', which the set does not define: add a list or regex entity of that name " +
                        $"(names are case-sensitive), or use number or datetime. Defined: {(known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal)))}.");
                else if (!required.Add(slot.Entity))
                    problems.Add($"The intent '{intent.Name}' requires the entity '{slot.Entity}' twice: keep one.");
            }
        }
        var entityNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in set.Entities)
        {
            if (!IsValidName(e.Name))
            {
                problems.Add($"The entity name '{e.Name}' is not valid: use 1-64 letters, digits, '_' or '-', starting with a letter (e.g. room).");
                continue;
            }
            if (!entityNames.Add(e.Name)) problems.Add($"The entity '{e.Name}' appears twice: give each entity its own name.");
            switch (e.Kind?.ToLowerInvariant())
            {
                case IntentEntityKinds.List:
                    if (e.Values.Count == 0 || e.Values.Any(v => string.IsNullOrWhiteSpace(v.Value)))
                        problems.Add($"The list entity '{e.Name}' needs values: add values such as {{\"value\": \"kitchen\", \"synonyms\": [\"cooking area\"]}}.");
                    break;
                case IntentEntityKinds.Regex:
                    if (string.IsNullOrWhiteSpace(e.Pattern))
                    {
                        problems.Add($"The regex entity '{e.Name}' has no pattern: set pattern, e.g. \\bORD-(?<value>\\d{{6}})\\b.");
                        break;
                    }
                    try
                    {
                        _ = new Regex(e.Pattern, RegexOptions.None, TimeSpan.FromMilliseconds(200));
                    }
                    catch (ArgumentException ex)
                    {
                        problems.Add($"The regex entity '{e.Name}' has an invalid pattern: {ex.Message}");
                    }
                    break;
                default:
                    problems.Add($"The entity '{e.Name}' has kind '{e.Kind}': use list or regex.");
                    break;
            }
        }
        return problems;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>Stores intent sets.</summary>
public interface IIntentSetStore
{
    /// <summary>Raised after a set is saved or deleted, with the set id.</summary>
    event Action<string>? Changed;

    /// <summary>All sets, by id.</summary>
    Task<IReadOnlyList<IntentSet>> ListAsync(CancellationToken ct = default);

    /// <summary>One set (case-insensitive id), or null.</summary>
    Task<IntentSet?> FindAsync(string id, CancellationToken ct = default);

    /// <summary>Adds or replaces a set. The caller sets <see cref="IntentSet.Version"/> and the timestamps.</summary>
    Task SaveAsync(IntentSet set, CancellationToken ct = default);

    /// <summary>Deletes a set; false when unknown.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken ct = default);
}

/// <summary>
/// Intent sets in one JSON file (<c>intent-sets.json</c> in the data directory). Thread-safe within the process; writes go
/// to a temporary file that replaces the old one.
/// </summary>
public sealed class JsonFileIntentSetStore : IIntentSetStore
{
    /// <summary>The JSON options of the file (camelCase, indented).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, IntentSet>? _cache;

    /// <summary>Creates the store over a file.</summary>
    public JsonFileIntentSetStore(string path) => _path = path;

    /// <inheritdoc />
    public event Action<string>? Changed;

    /// <inheritdoc />
    public async Task<IReadOnlyList<IntentSet>> ListAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try { return (await LoadAsync(ct)).Values.OrderBy(s => s.Id, StringComparer.OrdinalIgnoreCase).ToList(); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task<IntentSet?> FindAsync(string id, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try { return (await LoadAsync(ct)).GetValueOrDefault(id); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task SaveAsync(IntentSet set, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!IntentSetRules.IsValidName(set.Id)) throw new ArgumentException($"'{set.Id}' is not a valid intent set id.", nameof(set));
        await _gate.WaitAsync(ct);
        try
        {
            var copy = new Dictionary<string, IntentSet>(await LoadAsync(ct), StringComparer.OrdinalIgnoreCase) { [set.Id] = set };
            await WriteAsync(copy, ct);
            _cache = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(set.Id);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string id, CancellationToken ct = default)
    {
        string? removed;
        await _gate.WaitAsync(ct);
        try
        {
            var all = await LoadAsync(ct);
            if (!all.TryGetValue(id, out var existing)) return false;
            removed = existing.Id;
            var copy = new Dictionary<string, IntentSet>(all, StringComparer.OrdinalIgnoreCase);
            copy.Remove(id);
            await WriteAsync(copy, ct);
            _cache = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(removed);
        return true;
    }

    private async Task<Dictionary<string, IntentSet>> LoadAsync(CancellationToken ct)
    {
        if (_cache is not null) return _cache;
        var result = new Dictionary<string, IntentSet>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(_path))
        {
            await using var stream = File.OpenRead(_path);
            try
            {
                foreach (var s in await JsonSerializer.DeserializeAsync<List<IntentSet>>(stream, Json, ct) ?? []) result[s.Id] = s;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{_path} is not a valid intent set file ({e.Message}). Fix or remove it; it holds a JSON array of intent sets.", e);
            }
        }
        return _cache = result;
    }

    private async Task WriteAsync(Dictionary<string, IntentSet> all, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var temp = _path + ".tmp";
        await using (var stream = File.Create(temp))
        {
            await JsonSerializer.SerializeAsync(stream, all.Values.OrderBy(s => s.Id, StringComparer.OrdinalIgnoreCase).ToList(), Json, ct);
        }
        File.Move(temp, _path, overwrite: true);
    }
}

/// <summary>
/// Intent sets shared by all server nodes: kept as <see cref="IConfigurationDocuments"/> of kind <see cref="Kind"/> (the host
/// stores them in the platform database) and held in memory, so recognising an intent never queries the database. Changes
/// made by other nodes are picked up every refresh interval and announced through <see cref="Changed"/>, like local saves.
/// </summary>
public sealed class DocumentIntentSetStore : IIntentSetStore, IDisposable
{
    /// <summary>The document kind of intent sets.</summary>
    public const string Kind = "intent-sets";

    private readonly ConfigurationDocumentCache<IntentSet> _cache;

    /// <summary>Creates the store.</summary>
    /// <param name="documents">The shared documents.</param>
    /// <param name="refreshInterval">How often other nodes' changes are looked for (zero: never).</param>
    /// <param name="logger">Logs sets that cannot be read.</param>
    public DocumentIntentSetStore(IConfigurationDocuments documents, TimeSpan refreshInterval, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        _cache = new ConfigurationDocumentCache<IntentSet>(documents, Kind, s => s.Id, s => JsonSerializer.Serialize(s, JsonFileIntentSetStore.Json),
            json => JsonSerializer.Deserialize<IntentSet>(json, JsonFileIntentSetStore.Json) ?? throw new JsonException("The document is null."),
            refreshInterval, logger);
        _cache.Changed += id => Changed?.Invoke(id);
    }

    /// <inheritdoc />
    public event Action<string>? Changed;

    /// <inheritdoc />
    public Task<IReadOnlyList<IntentSet>> ListAsync(CancellationToken ct = default) => _cache.ListAsync(ct);

    /// <inheritdoc />
    public Task<IntentSet?> FindAsync(string id, CancellationToken ct = default) => _cache.FindAsync(id, ct);

    /// <inheritdoc />
    public Task SaveAsync(IntentSet set, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!IntentSetRules.IsValidName(set.Id)) throw new ArgumentException($"'{set.Id}' is not a valid intent set id.", nameof(set));
        return _cache.SaveAsync(set, ct);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string id, CancellationToken ct = default) => _cache.DeleteAsync(id, ct);

    /// <summary>Looks for changes made by other nodes now.</summary>
    public Task RefreshAsync(CancellationToken ct = default) => _cache.RefreshAsync(ct);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
