using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Platform.Server.Observability;

/// <summary>
/// Masks personal data in text: e-mail addresses keep their first character and domain (<c>a***@example.com</c>); phone numbers
/// in international form (<c>+441234561234</c>, <c>+44 20 7946 0958</c>, <c>+1 (415) 555-0100</c>, also escaped as
/// <c>%2B14155550100</c> in conversation keys) and in the North American form (<c>(415) 555-0100</c>, <c>415-555-0100</c>) keep the
/// first two and the last four digits (<c>+44******1234</c>).
/// </summary>
public static partial class PersonalDataMask
{
    /// <summary>The configuration key that turns masking off (<c>false</c>) for debugging.</summary>
    public const string SettingKey = "Platform:Logging:MaskPersonalData";

    [GeneratedRegex(@"(?<![\w.%+\-])(?<first>[A-Za-z0-9_%+\-])(?<rest>[A-Za-z0-9._%+\-]*)@(?<domain>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})",
        RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    [GeneratedRegex(@"(?<prefix>\+|%2[Bb])(?<number>\d[\d \-.()]{5,22}\d)(?![\w])|(?<![\w+\-.])(?<nanp>\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4})(?![\w\-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Phone();

    /// <summary>The text with every e-mail address and phone number masked; the text itself when it has none.</summary>
    public static string Mask(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        var result = text;
        if (result.Contains('@', StringComparison.Ordinal))
            result = Email().Replace(result, m => m.Groups["first"].Value + "***@" + m.Groups["domain"].Value);
        if (result.AsSpan().IndexOfAnyInRange('0', '9') >= 0) result = Phone().Replace(result, MaskPhone);
        return result;
    }

    private static string MaskPhone(Match match)
    {
        var prefix = match.Groups["prefix"].Success ? match.Groups["prefix"].Value : "";
        var raw = match.Groups["prefix"].Success ? match.Groups["number"].Value : match.Groups["nanp"].Value;
        var digits = string.Concat(raw.Where(char.IsAsciiDigit));
        if (digits.Length is < 7 or > 15) return match.Value; // not a phone number (too short or too long)
        return prefix + digits[..2] + new string('*', digits.Length - 6) + digits[^4..];
    }

    /// <summary>
    /// Wraps the host's logger factory so that every logger masks personal data in messages, structured properties and scopes,
    /// whatever provider writes them (console text or JSON, tests' providers), unless <see cref="SettingKey"/> is <c>false</c>.
    /// </summary>
    public static IServiceCollection AddPersonalDataMasking(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[SettingKey];
        if (!string.IsNullOrWhiteSpace(text) && !bool.TryParse(text, out _))
            throw new InvalidOperationException($"{SettingKey} is '{text}'; use true (mask e-mail addresses and phone numbers in logs, the default) or false.");
        if (bool.TryParse(text, out var enabled) && !enabled) return services;
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new MaskingLoggerFactory(new LoggerFactory(sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(), sp.GetService<IOptions<LoggerFactoryOptions>>(), sp.GetService<IExternalScopeProvider>()))));
        return services;
    }
}

/// <summary>An <see cref="ILoggerFactory"/> whose loggers mask personal data (<see cref="PersonalDataMask"/>) before the providers see it.</summary>
public sealed class MaskingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new MaskingLogger(inner.CreateLogger(categoryName));

    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <inheritdoc />
    public void Dispose() => inner.Dispose();

    private sealed class MaskingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => state switch
        {
            string text => inner.BeginScope(PersonalDataMask.Mask(text)),
            IReadOnlyList<KeyValuePair<string, object?>> pairs => inner.BeginScope(new MaskedState(pairs, PersonalDataMask.Mask(state.ToString()))),
            _ => inner.BeginScope(state),
        };

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            ArgumentNullException.ThrowIfNull(formatter);
            var message = PersonalDataMask.Mask(formatter(state, exception));
            IReadOnlyList<KeyValuePair<string, object?>> pairs = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            inner.Log(logLevel, eventId, new MaskedState(pairs, message), exception, static (s, _) => s.Message);
        }
    }

    /// <summary>A log state with masked values and message; <c>{OriginalFormat}</c> (the template) is kept.</summary>
    private sealed class MaskedState : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _pairs;

        public MaskedState(IReadOnlyList<KeyValuePair<string, object?>> pairs, string message)
        {
            Message = message;
            _pairs = new KeyValuePair<string, object?>[pairs.Count];
            for (var i = 0; i < pairs.Count; i++)
            {
                var (key, value) = pairs[i];
                _pairs[i] = new(key, key == "{OriginalFormat}" ? value : MaskValue(value));
            }
        }

        public string Message { get; }

        public KeyValuePair<string, object?> this[int index] => _pairs[index];

        public int Count => _pairs.Length;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_pairs).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;

        private static object? MaskValue(object? value) => value switch
        {
            null or bool or int or long or short or byte or double or float or decimal or Guid or DateTime or DateTimeOffset or TimeSpan or Enum => value,
            string text => PersonalDataMask.Mask(text),
            IEnumerable sequence and not IDictionary => sequence.Cast<object?>().Select(MaskValue).ToArray(),
            _ => value.ToString() is { } text && PersonalDataMask.Mask(text) is var masked && !ReferenceEquals(masked, text) && masked != text ? masked : value,
        };
    }
}
