using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NuGet.Protocol;
using NuGet.Protocol.Core.Types;
using NuGet.Versioning;
using Platform.Activities;
using Platform.Engine.Descriptors;

namespace Platform.Packs;

/// <summary>
/// Installs, upgrades, enables, disables and removes packs at run time, without a restart. Each pack version loads into
/// its own collectible <see cref="PackLoadContext"/>; its activities are added to the <see cref="ActivityRegistry"/> (the
/// Studio's palette) at once and removed again before the context is unloaded. Installed packs are stored as configuration
/// documents (kind <c>packs</c>), so every node loads the same set (<see cref="RefreshAsync"/>).
/// </summary>
public sealed class PackManager : IDisposable
{
    private readonly ActivityRegistry _registry;
    private readonly IConfigurationDocuments _documents;
    private readonly IAuditLog? _audit;
    private static readonly AsyncLocal<Action<PackChange>?> ChangeSink = new();
    private readonly PackOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, LoadedPack> _packs = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the manager; nothing is loaded until <see cref="RefreshAsync"/> or an install.</summary>
    public PackManager(ActivityRegistry registry, IConfigurationDocuments documents, IOptions<PackOptions> options, TimeProvider clock,
        ILogger<PackManager>? logger = null, IAuditLog? audit = null)
    {
        _registry = registry;
        _documents = documents;
        _audit = audit;
        _options = options.Value;
        _clock = clock;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The audit trail target type of pack changes (actions <c>pack.install</c>, <c>pack.upgrade</c>, <c>pack.enable</c>,
    /// <c>pack.disable</c>, <c>pack.remove</c>).</summary>
    public const string AuditTargetType = "packs";

    /// <summary>
    /// Within the returned scope (on this asynchronous flow), pack changes are handed to <paramref name="sink"/> instead of being
    /// recorded in the audit trail. The API uses it to put a change into the audit entry it writes for the request, so that
    /// each change is recorded once; changes without a request (the drop folder) are recorded by the manager.
    /// </summary>
    public static IDisposable RecordChangesTo(Action<PackChange> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var previous = ChangeSink.Value;
        ChangeSink.Value = sink;
        return new SinkScope(previous);
    }

    private sealed class SinkScope(Action<PackChange>? previous) : IDisposable
    {
        public void Dispose() => ChangeSink.Value = previous;
    }

    private sealed class LoadedPack
    {
        public required PackRecord Record { get; set; }
        public PackManifest? Manifest { get; set; }
        public PackLoadContext? Context { get; set; }
        public List<string> Types { get; set; } = [];
        public List<string> Errors { get; set; } = [];
        public long Revision { get; set; }
    }

    /// <summary>Every installed pack, ordered by id.</summary>
    public IReadOnlyList<PackInfo> List()
    {
        lock (_packs) return _packs.Values.OrderBy(p => p.Record.Id, StringComparer.OrdinalIgnoreCase).Select(ToInfo).ToList();
    }

    /// <summary>One pack, or null.</summary>
    public PackInfo? Find(string id)
    {
        lock (_packs) return _packs.TryGetValue(id, out var p) ? ToInfo(p) : null;
    }

    /// <summary>
    /// Installs a .nupkg, or upgrades (or downgrades) the installed version of its id. The new version loads and its activities
    /// replace the old ones at once; the old load context is unloaded. Stored for every node.
    /// </summary>
    /// <exception cref="PackException">The package is not valid, not trusted, or its activity types clash with others.</exception>
    public async Task<(PackInfo Pack, bool Created)> InstallAsync(byte[] bytes, string? user, string source, CancellationToken cancellationToken = default)
    {
        // The signature first: a package changed after signing is refused as such, whatever else is wrong with it.
        var signer = await VerifySignatureAsync(bytes, _clock.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var package = PackPackage.Read(bytes);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LoadedPack? existing;
            lock (_packs) _packs.TryGetValue(package.Manifest.Id, out existing);
            var record = new PackRecord
            {
                Id = package.Manifest.Id, Version = package.Manifest.Version, Enabled = existing?.Record.Enabled ?? true, Sha512 = package.Sha512,
                InstalledAt = _clock.GetUtcNow(), InstalledBy = user, Source = source, Package = Convert.ToBase64String(bytes),
                SignerFingerprint = signer?.Fingerprint, SignerSubject = signer?.Subject,
            };
            if (existing is not null && existing.Record.Sha512 == package.Sha512 && existing.Errors.Count == 0) return (ToInfo(existing), false);
            var loaded = Activate(record, package, existing, throwOnError: true);
            var saved = await _documents.SaveAsync(PackRecord.Kind, record.Id, record.ToJson(), cancellationToken).ConfigureAwait(false);
            loaded.Revision = saved.Revision;
            var action = existing is null ? "install" : "upgrade";
            _logger.LogInformation("Pack {Id} {Version} {Action} by {User}: {Types}", record.Id, record.Version, action, user, string.Join(", ", loaded.Types));
            await AuditAsync(action, record, user, existing?.Record.Version, cancellationToken).ConfigureAwait(false);
            return (ToInfo(loaded), existing is null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Downloads a pack from the configured feeds (<see cref="PackOptions.Sources"/>) and installs it.</summary>
    /// <param name="id">The package id.</param>
    /// <param name="version">The version; null for the newest stable one.</param>
    /// <param name="user">Who asked.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <exception cref="PackException">No source is configured, no source has it, or it cannot be installed.</exception>
    public async Task<(PackInfo Pack, bool Created)> InstallFromFeedAsync(string id, string? version, string? user, CancellationToken cancellationToken = default)
    {
        if (!PackManifest.IsValidId(id)) throw PackException.Invalid($"'{id}' is not a package id.", "Give the pack's NuGet package id, e.g. Acme.Weather.");
        NuGetVersion? wanted = null;
        if (version is { Length: > 0 } && !NuGetVersion.TryParse(version, out wanted))
            throw PackException.Invalid($"'{version}' is not a version.", "Give a version such as 1.2.0, or none for the newest.");
        if (_options.Sources.Count == 0)
            throw PackException.Invalid("No pack source is configured.", "Set Platform:Packs:Sources:0 to a NuGet v3 feed URL or a local folder, or upload the .nupkg as the form field 'file'.");
        using var cache = new SourceCacheContext { NoCache = true, DirectDownload = true };
        var errors = new List<string>();
        foreach (var source in _options.Sources)
        {
            try
            {
                var repository = Repository.Factory.GetCoreV3(source);
                var finder = await repository.GetResourceAsync<FindPackageByIdResource>(cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("the source offers no package lookup");
                var v = wanted ?? (await finder.GetAllVersionsAsync(id, cache, NuGet.Common.NullLogger.Instance, cancellationToken).ConfigureAwait(false))
                    .Where(x => !x.IsPrerelease).DefaultIfEmpty().Max();
                if (v is null) continue;
                using var stream = new MemoryStream();
                if (!await finder.CopyNupkgToStreamAsync(id, v, stream, cache, NuGet.Common.NullLogger.Instance, cancellationToken).ConfigureAwait(false)) continue;
                return await InstallAsync(stream.ToArray(), user, $"feed:{source}", cancellationToken).ConfigureAwait(false);
            }
            catch (PackException) { throw; }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "Pack source {Source} failed for {Id}", source, id);
                errors.Add($"{source}: {e.Message}");
            }
        }
        throw PackException.NotFound($"No configured source has the pack '{id}'{(wanted is null ? "" : $" version {wanted}")}.",
            $"Publish it to one of: {string.Join(", ", _options.Sources)}; or check the id and version.{(errors.Count > 0 ? " Errors: " + string.Join("; ", errors) : "")}");
    }

    /// <summary>Enables or disables a pack. Disabled packs stay installed; their activities leave the palette and their context is unloaded.</summary>
    /// <exception cref="PackException">Unknown id (not-found), or enabling fails to load it.</exception>
    public async Task<PackInfo> SetEnabledAsync(string id, bool enabled, string? user, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LoadedPack? existing;
            lock (_packs) _packs.TryGetValue(id, out existing);
            if (existing is null) throw NotInstalled(id);
            if (existing.Record.Enabled == enabled && existing.Errors.Count == 0) return ToInfo(existing);
            var record = existing.Record with { Enabled = enabled };
            if (enabled) await VerifyStoredAsync(record, cancellationToken).ConfigureAwait(false);
            var loaded = Activate(record, PackageOf(record), existing, throwOnError: true);
            var saved = await _documents.SaveAsync(PackRecord.Kind, record.Id, record.ToJson(), cancellationToken).ConfigureAwait(false);
            loaded.Revision = saved.Revision;
            await AuditAsync(enabled ? "enable" : "disable", record, user, null, cancellationToken).ConfigureAwait(false);
            return ToInfo(loaded);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes a pack: its activities leave the palette, its context is unloaded and its record is deleted for every node.</summary>
    /// <exception cref="PackException">Unknown id (not-found).</exception>
    public async Task RemoveAsync(string id, string? user, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LoadedPack? existing;
            lock (_packs) _packs.TryGetValue(id, out existing);
            if (existing is null) throw NotInstalled(id);
            await _documents.DeleteAsync(PackRecord.Kind, existing.Record.Id, cancellationToken).ConfigureAwait(false);
            Unload(existing);
            lock (_packs) _packs.Remove(id);
            _logger.LogInformation("Pack {Id} {Version} removed by {User}", existing.Record.Id, existing.Record.Version, user);
            await AuditAsync("remove", existing.Record, user, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Brings this node in line with the stored packs: loads new and changed ones (installed on another node), unloads removed
    /// ones. One cheap revision query when nothing changed. A pack that fails to load is listed with its errors.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Read inside the gate: revisions read before a local install finished would make it look removed elsewhere.
            var revisions = await _documents.ListRevisionsAsync(PackRecord.Kind, cancellationToken).ConfigureAwait(false);
            var stored = revisions.ToDictionary(r => r.Id, r => r.Revision, StringComparer.OrdinalIgnoreCase);
            List<LoadedPack> gone;
            lock (_packs) gone = _packs.Values.Where(p => !stored.ContainsKey(p.Record.Id)).ToList();
            foreach (var p in gone)
            {
                Unload(p);
                lock (_packs) _packs.Remove(p.Record.Id);
                _logger.LogInformation("Pack {Id} was removed on another node; unloaded", p.Record.Id);
            }
            foreach (var (id, revision) in stored)
            {
                LoadedPack? existing;
                lock (_packs) _packs.TryGetValue(id, out existing);
                if (existing is not null && existing.Revision == revision) continue;
                var doc = await _documents.FindAsync(PackRecord.Kind, id, cancellationToken).ConfigureAwait(false);
                if (doc is null) continue;
                PackRecord record;
                try
                {
                    record = PackRecord.FromJson(doc.Json);
                }
                catch (Exception e) when (e is JsonException or InvalidDataException)
                {
                    _logger.LogError(e, "The stored pack record {Id} cannot be read; reinstall the pack", id);
                    continue;
                }
                if (existing is not null && existing.Record.Sha512 == record.Sha512 && existing.Record.Enabled == record.Enabled && existing.Errors.Count == 0)
                {
                    existing.Record = record;
                    existing.Revision = doc.Revision;
                    continue;
                }
                PackPackage? package = null;
                string? refused = null;
                try
                {
                    // Every node checks the signature of what it loads (the stored SHA-512 sits beside the bytes it guards).
                    if (record.Enabled) await VerifyStoredAsync(record, cancellationToken).ConfigureAwait(false);
                    package = PackageOf(record);
                }
                catch (PackException e)
                {
                    _logger.LogError("The stored pack {Id} is not loaded: {Message} {Fix}", id, e.Message, e.Fix);
                    refused = $"{e.Message} {e.Fix}";
                }
                var loaded = package is null ? Failed(record, existing, refused ?? "The stored package cannot be read; reinstall the pack.")
                    : Activate(record, package, existing, throwOnError: false);
                loaded.Revision = doc.Revision;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A weak reference to the load context of a pack's current version (null when none is loaded), to observe that an unload
    /// lets it be collected.
    /// </summary>
    public WeakReference? LoadContextReference(string id)
    {
        lock (_packs) return _packs.TryGetValue(id, out var p) && p.Context is not null ? new WeakReference(p.Context) : null;
    }

    private LoadedPack Activate(PackRecord record, PackPackage package, LoadedPack? existing, bool throwOnError)
    {
        var ownedBefore = existing?.Types.ToHashSet(StringComparer.Ordinal) ?? [];
        if (!record.Enabled)
        {
            if (existing is not null) Unload(existing);
            return Store(new LoadedPack { Record = record, Manifest = package.Manifest });
        }
        var context = new PackLoadContext(record.Id, record.Version, package.Assemblies) { Permissions = package.Manifest.Permissions, Isolation = package.Manifest.Isolation };
        List<ActivityDescriptor> descriptors;
        try
        {
            descriptors = context.LoadActivityAssemblies().SelectMany(ActivityRegistry.DescribeAssembly).ToList();
            if (descriptors.Count == 0)
                throw PackException.Invalid($"The pack '{record.Id}' has no activities.",
                    "Add a public class derived from Activity with [Activity(...)] and a parameterless constructor.");
            var clash = descriptors.FirstOrDefault(d => _registry.Find(d.TypeName) is not null && !ownedBefore.Contains(d.TypeName));
            if (clash is not null)
                throw PackException.Conflict($"The pack '{record.Id}' provides the activity type '{clash.TypeName}', which another pack or the server already provides.",
                    "Give the pack's activities their own namespace, e.g. [Activity(\"Acme.Weather\", ...)], or remove the other pack first.");
        }
        catch (Exception e)
        {
            context.Unload();
            PackTelemetry.RecordLoad(record.Id, loaded: false);
            var error = e as PackException ?? PackException.Invalid($"The pack '{record.Id}' cannot be loaded: {e.GetType().Name}: {(e as System.Reflection.ReflectionTypeLoadException)?.LoaderExceptions.FirstOrDefault()?.Message ?? e.Message}",
                "Ship every private dependency in the package's lib folder and build against this server's pack SDK.");
            if (throwOnError) throw error;
            _logger.LogError("Pack {Id} {Version} failed to load: {Message}", record.Id, record.Version, error.Message);
            return Failed(record, existing, $"{error.Message} {error.Fix}");
        }

        PackTelemetry.RecordLoad(record.Id, loaded: true);
        var types = descriptors.Select(d => d.TypeName).ToList();
        foreach (var old in ownedBefore.Except(types)) _registry.Remove(old);
        foreach (var d in descriptors) _registry.Register(d);
        existing?.Context?.Unload();
        if (existing is not null) existing.Context = null;
        return Store(new LoadedPack { Record = record, Manifest = package.Manifest, Context = context, Types = types });
    }

    private LoadedPack Failed(PackRecord record, LoadedPack? existing, string error)
    {
        if (existing is not null) Unload(existing);
        return Store(new LoadedPack { Record = record, Errors = [error] });
    }

    private LoadedPack Store(LoadedPack pack)
    {
        lock (_packs) _packs[pack.Record.Id] = pack;
        return pack;
    }

    private void Unload(LoadedPack pack)
    {
        foreach (var t in pack.Types) _registry.Remove(t);
        pack.Types = [];
        pack.Context?.Unload();
        pack.Context = null;
    }

    private static PackPackage PackageOf(PackRecord record)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(record.Package);
        }
        catch (FormatException)
        {
            throw PackException.Invalid($"The stored package of '{record.Id}' is damaged.", "Reinstall the pack.");
        }
        var sha = Convert.ToHexStringLower(SHA512.HashData(bytes));
        if (!string.Equals(sha, record.Sha512, StringComparison.OrdinalIgnoreCase))
            throw PackException.Untrusted($"The stored package of '{record.Id}' does not match its recorded SHA-512.", "Reinstall the pack from a trusted copy.");
        return PackPackage.Read(bytes);
    }

    /// <summary>Checks the signature of a stored package (not the certificate's validity period: an installed pack keeps loading after it expires).</summary>
    private async Task VerifyStoredAsync(PackRecord record, CancellationToken cancellationToken)
    {
        if (_options.TrustedCertificateFingerprints.Count == 0) return;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(record.Package);
        }
        catch (FormatException)
        {
            return; // reported as damaged when it is read
        }
        await VerifySignatureAsync(bytes, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Null when no fingerprints are configured (signatures are not required); else the verified signer (see <see cref="PackSignatures"/>).</summary>
    private async Task<PackSigner?> VerifySignatureAsync(byte[] bytes, DateTimeOffset? now, CancellationToken cancellationToken) =>
        _options.TrustedCertificateFingerprints.Count == 0 ? null
            : await PackSignatures.VerifyAsync(bytes, _options.TrustedCertificateFingerprints, now, cancellationToken).ConfigureAwait(false);

    private Task AuditAsync(string action, PackRecord record, string? user, string? previousVersion, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        var change = new PackChange(action, record.Id, record.Version, previousVersion, user, record.Sha512, record.Source, record.SignerFingerprint);
        if (ChangeSink.Value is { } sink)
        {
            sink(change);
            return Task.CompletedTask;
        }
        _audit?.Record(new AuditEntry
        {
            Timestamp = _clock.GetUtcNow(), Action = "pack." + action, Actor = user, ActorKind = AuditActorKinds.System,
            TargetType = AuditTargetType, TargetId = record.Id,
            Details = JsonSerializer.Serialize(new
            {
                action, id = record.Id, version = record.Version, previousVersion, by = user, sha512 = record.Sha512, source = record.Source,
                signer = record.SignerFingerprint,
            }, PackManifest.Json),
        });
        return Task.CompletedTask;
    }

    private static PackException NotInstalled(string id) =>
        PackException.NotFound($"The pack '{id}' is not installed.", "List the installed packs with GET /api/packs.");

    private static PackInfo ToInfo(LoadedPack p) => new(p.Record.Id, p.Record.Version,
        p.Errors.Count > 0 ? "Failed" : p.Record.Enabled ? "Enabled" : "Disabled",
        p.Manifest?.DisplayName, p.Manifest?.Description, p.Manifest?.Author, p.Manifest?.Sdk, p.Manifest?.Isolation ?? "shared",
        p.Manifest?.Permissions ?? new PackPermissions(), p.Types.ToList(), p.Errors.ToList(), p.Record.Sha512, p.Record.InstalledAt, p.Record.InstalledBy, p.Record.Source,
        p.Record.SignerFingerprint, p.Record.SignerSubject);

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();
}
