namespace Platform.Intents.Entities;

/// <summary>An entity found in a text.</summary>
/// <param name="Name">The entity name (for built-ins: <c>number</c>, <c>datetime</c>).</param>
/// <param name="Kind">The kind: <c>number</c>, <c>datetime</c>, <c>list</c> or <c>regex</c>.</param>
/// <param name="Text">The matched text.</param>
/// <param name="Start">Where the match starts in the text.</param>
/// <param name="Length">The match's length.</param>
/// <param name="Value">The resolved value: a <see cref="decimal"/> for numbers, a <see cref="DateTimeOffset"/> for dates and
/// times, the canonical value for list entities, the match (or its <c>value</c> group) for regex entities.</param>
public sealed record EntityMatch(string Name, string Kind, string Text, int Start, int Length, object? Value);

/// <summary>An entity to look for.</summary>
/// <param name="Name">The entity name; it becomes the workflow variable's name.</param>
public abstract record EntityDefinition(string Name);

/// <summary>Numbers written with digits (<c>3</c>, <c>1,250.5</c>), English words (<c>twenty five</c>) or Chinese
/// numerals (<c>二十五</c>, <c>两</c>); percentages give the number (<c>50%</c>, <c>50 percent</c>, <c>百分之五十</c> → 50).</summary>
/// <param name="Name">The entity name. Default <c>number</c>.</param>
public sealed record NumberEntity(string Name = "number") : EntityDefinition(Name);

/// <summary>Dates and times relative to a reference time in a time zone: <c>tomorrow at 7</c>, <c>in 10 minutes</c>,
/// <c>next monday 9am</c>, <c>march 5</c>, <c>2025-03-05 18:30</c>, <c>明天早上7点</c>, <c>10分钟后</c>.</summary>
/// <param name="Name">The entity name. Default <c>datetime</c>.</param>
public sealed record DateTimeEntity(string Name = "datetime") : EntityDefinition(Name);

/// <summary>A closed list: each canonical value with its synonyms (the canonical value matches too). Matching ignores
/// case and accents and respects word boundaries (not for CJK text); the longest synonym wins.</summary>
/// <param name="Name">The entity name, for example <c>room</c>.</param>
/// <param name="Values">Canonical value → synonyms, for example <c>kitchen → [cooking area, 厨房]</c>.</param>
public sealed record ListEntity(string Name, IReadOnlyDictionary<string, IReadOnlyList<string>> Values) : EntityDefinition(Name);

/// <summary>A regular expression (.NET syntax, case-insensitive). The value is the named group <c>value</c> when the
/// pattern has one, else the whole match.</summary>
/// <param name="Name">The entity name, for example <c>order_number</c>.</param>
/// <param name="Pattern">The pattern, for example <c>\bORD-(?&lt;value&gt;\d{6})\b</c>.</param>
public sealed record RegexEntity(string Name, string Pattern) : EntityDefinition(Name);
