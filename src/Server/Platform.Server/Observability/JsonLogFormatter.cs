using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Platform.Server.Observability;

/// <summary>
/// One JSON object per line: <c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, <c>trace_id</c> and <c>span_id</c>
/// (of the current trace span), and, where the message or a scope names them, <c>conversation</c>, <c>instance</c> and
/// <c>channel</c>; <c>exception</c> when there is one. Chosen with <c>Logging:Format=json</c>.
/// </summary>
public sealed class JsonLogFormatter : ConsoleFormatter
{
    /// <summary>The formatter's name.</summary>
    public const string FormatterName = "platform-json";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true };

    /// <summary>Creates the formatter.</summary>
    public JsonLogFormatter() : base(FormatterName) { }

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null) return;
        string? conversation = null, instance = null, channel = null;
        void Look(object? state)
        {
            if (state is not IEnumerable<KeyValuePair<string, object?>> pairs) return;
            foreach (var (key, value) in pairs)
            {
                if (value is null) continue;
                switch (key)
                {
                    case "Conversation" or "ConversationKey" or "conversation":
                        conversation ??= value.ToString();
                        break;
                    case "Instance" or "InstanceId" or "WorkflowInstanceId" or "instance":
                        instance ??= value.ToString();
                        break;
                    case "Channel" or "ChannelName" or "channel":
                        channel ??= value.ToString();
                        break;
                }
            }
        }
        Look(logEntry.State);
        scopeProvider?.ForEachScope((scope, _) => Look(scope), (object?)null);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", DateTimeOffset.UtcNow);
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("category", logEntry.Category);
            json.WriteString("message", message ?? "");
            if (Activity.Current is { } span)
            {
                json.WriteString("trace_id", span.TraceId.ToHexString());
                json.WriteString("span_id", span.SpanId.ToHexString());
            }
            if (conversation is not null) json.WriteString("conversation", conversation);
            if (instance is not null) json.WriteString("instance", instance);
            if (channel is not null) json.WriteString("channel", channel);
            if (logEntry.EventId.Id != 0) json.WriteNumber("event_id", logEntry.EventId.Id);
            if (logEntry.Exception is not null) json.WriteString("exception", logEntry.Exception.ToString());
            json.WriteEndObject();
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        textWriter.Write('\n');
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };
}
