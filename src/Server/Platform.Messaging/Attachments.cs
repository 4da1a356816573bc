using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Channels;
using Platform.Engine.Contracts;

namespace Platform.Messaging;

/// <summary>Settings of the attachment store (<c>Platform:Attachments</c>).</summary>
public sealed class AttachmentOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Attachments";

    /// <summary>The directory; default <c>&lt;data directory&gt;/attachments</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>The largest attachment of any channel, in bytes (default 50 MB); a channel's <c>maxAttachmentBytes</c> setting
    /// can lower or raise it for that channel.</summary>
    public long MaxBytes { get; set; } = AttachmentPolicy.DefaultMaxBytes;

    /// <summary>The content types accepted on every channel (<c>image/*</c>, <c>application/pdf</c>…); empty accepts all. A
    /// channel's <c>allowedAttachmentTypes</c> setting (comma-separated) replaces it for that channel.</summary>
    public List<string> AllowedContentTypes { get; set; } = [];

    /// <summary>The policy of channel <paramref name="channel"/> (null: the server-wide one).</summary>
    public AttachmentPolicy PolicyFor(ChannelConfig? channel)
    {
        var max = MaxBytes;
        if (channel?.Get("maxAttachmentBytes") is { Length: > 0 } text)
        {
            max = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new ChannelConfigurationException($"Channel '{channel.Name}': maxAttachmentBytes is '{text}'. Set a number of bytes, such as 52428800 for 50 MB.");
        }

        var types = channel?.Get("allowedAttachmentTypes") is { Length: > 0 } list
            ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : AllowedContentTypes;
        return new AttachmentPolicy { MaxBytes = max, AllowedContentTypes = types };
    }
}

/// <summary>The retention job's part for attachment files: those older than <see cref="RetentionOptions.Messages"/> go
/// with the messages that referred to them.</summary>
public sealed class AttachmentRetention(IAttachmentStore store) : IRetentionParticipant
{
    /// <inheritdoc />
    public string Name => "attachments";

    /// <inheritdoc />
    public Task<int> PurgeAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Messages > TimeSpan.Zero ? store.PurgeAsync(now - options.Messages, ct) : Task.FromResult(0);
    }
}

/// <summary>Registers the attachment store.</summary>
public static class AttachmentServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IAttachmentStore"/> (a <see cref="FileAttachmentStore"/> in
    /// <c>Platform:Attachments:Directory</c>, default <c>&lt;dataDirectory&gt;/attachments</c>) and its retention.</summary>
    public static IServiceCollection AddPlatformAttachments(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(AttachmentOptions.SectionName);
        var options = new AttachmentOptions
        {
            Directory = section["Directory"],
            AllowedContentTypes = [.. section.GetSection("AllowedContentTypes").GetChildren().Select(c => c.Value).OfType<string>()],
        };
        if (section["MaxBytes"] is { Length: > 0 } max)
        {
            options.MaxBytes = long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new InvalidOperationException($"{AttachmentOptions.SectionName}:MaxBytes is '{max}'. Set a number of bytes, such as 52428800 for 50 MB.");
        }

        var directory = string.IsNullOrWhiteSpace(options.Directory) ? Path.Combine(dataDirectory, "attachments")
            : Path.IsPathRooted(options.Directory) ? options.Directory : Path.Combine(dataDirectory, options.Directory);
        services.TryAddSingleton(options);
        services.TryAddSingleton<IAttachmentStore>(sp => new FileAttachmentStore(directory, sp.GetService<TimeProvider>()));
        services.AddSingleton<IRetentionParticipant, AttachmentRetention>();
        return services;
    }
}
