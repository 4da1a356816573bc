using System.Security.Cryptography;

namespace Platform.Channels.Tests;

public sealed class AttachmentStoreTests : IDisposable
{
    private const long FiftyMegabytes = 50L * 1024 * 1024;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "attachments-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Should_StreamA50MegabyteFileToDiskInChunks_When_Saving()
    {
        var store = new FileAttachmentStore(_directory);
        // Each time the store reads the next chunk, how much of what it read before is already on disk.
        using var source = new GeneratedStream(FiftyMegabytes, seed: 7, onDisk: () =>
            Directory.EnumerateFiles(_directory, "*.part", SearchOption.AllDirectories).Select(f => new FileInfo(f).Length).DefaultIfEmpty(0).Single());

        var stored = await store.SaveAsync(source, "video.mp4", "video/mp4", "sms", AttachmentPolicy.Default, TestContext.Current.CancellationToken);

        Assert.Equal(FiftyMegabytes, stored.Size);
        Assert.Equal(source.Sha256(), stored.Sha256);
        Assert.Equal(FiftyMegabytes, new FileInfo(Path.Combine(_directory, stored.Id[..2], stored.Id + ".bin")).Length);
        // The 50 MB went to disk chunk by chunk: reads of at most 80 KB, and everything read before was written
        // before the next read, so memory never held more than one chunk.
        Assert.True(source.Reads > 600, $"{source.Reads} reads");
        Assert.True(source.LargestRead <= 81920, $"largest read {source.LargestRead:N0} bytes");
        Assert.Equal(0, source.LargestLag);
        var found = await store.FindAsync(stored.Id, TestContext.Current.CancellationToken);
        Assert.Equal(("video.mp4", "video/mp4", "sms"), (found!.Name, found.ContentType, found.Channel));
        await using var read = (await store.OpenReadAsync(stored.Id, TestContext.Current.CancellationToken))!;
        Assert.Equal(stored.Sha256, Convert.ToHexStringLower(await SHA256.HashDataAsync(read, TestContext.Current.CancellationToken)));
    }

    [Fact]
    public async Task Should_RefuseAndLeaveNothing_When_TheFileExceedsTheLimitOrItsTypeIsNotAllowed()
    {
        var store = new FileAttachmentStore(_directory);
        var imagesOnly = new AttachmentPolicy { MaxBytes = 1024 * 1024, AllowedContentTypes = ["image/*", "application/pdf"] };

        var tooLarge = await Assert.ThrowsAsync<AttachmentTooLargeException>(() =>
            store.SaveAsync(new GeneratedStream(FiftyMegabytes + 1, seed: 1), "big.bin", "application/octet-stream", null, AttachmentPolicy.Default));
        var wrongType = await Assert.ThrowsAsync<AttachmentTypeNotAllowedException>(() =>
            store.SaveAsync(new GeneratedStream(10, seed: 1), "run.exe", "application/x-msdownload", null, imagesOnly));
        var image = await store.SaveAsync(new GeneratedStream(1000, seed: 2), "../../etc/passwd.png", "image/png; charset=binary", null, imagesOnly);

        Assert.Contains("the limit is 52,428,800 bytes", tooLarge.Message, StringComparison.Ordinal);
        Assert.Contains("accepts image/*, application/pdf", wrongType.Message, StringComparison.Ordinal);
        Assert.Equal("passwd.png", image.Name);
        Assert.Equal([image.Id + ".bin", image.Id + ".json"],
            Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Should_FindNothing_When_TheIdIsUnknownOrNamesAPath()
    {
        var store = new FileAttachmentStore(_directory);

        Assert.Null(await store.FindAsync("../../secrets", TestContext.Current.CancellationToken));
        Assert.Null(await store.FindAsync(new string('a', 32), TestContext.Current.CancellationToken));
        Assert.Null(await store.OpenReadAsync("..%2F..%2Fx", TestContext.Current.CancellationToken));
        Assert.Null(await store.OpenReadAsync(new string('b', 32), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Should_DeleteOnlyOldAttachments_When_Purging()
    {
        var store = new FileAttachmentStore(_directory);
        var old = await store.SaveAsync(new GeneratedStream(100, seed: 3), "old.txt", "text/plain", null, AttachmentPolicy.Default);
        var fresh = await store.SaveAsync(new GeneratedStream(100, seed: 4), "new.txt", "text/plain", null, AttachmentPolicy.Default);
        File.SetLastWriteTimeUtc(Path.Combine(_directory, old.Id[..2], old.Id + ".bin"), DateTime.UtcNow.AddDays(-40));

        var deleted = await store.PurgeAsync(DateTimeOffset.UtcNow.AddDays(-30), TestContext.Current.CancellationToken);

        Assert.Equal(1, deleted);
        Assert.Null(await store.FindAsync(old.Id, TestContext.Current.CancellationToken));
        Assert.NotNull(await store.FindAsync(fresh.Id, TestContext.Current.CancellationToken));
    }

    /// <summary>A read-only stream of <c>length</c> pseudo-random bytes, produced as it is read (never held whole).</summary>
    private sealed class GeneratedStream(long length, int seed, Func<long>? onDisk = null) : Stream
    {
        public int Reads { get; private set; }

        public int LargestRead { get; private set; }

        public long LargestLag { get; private set; }

        private readonly Random _random = new(seed);
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;

        public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            Reads++;
            LargestRead = Math.Max(LargestRead, buffer.Length);
            if (onDisk is not null && _position > 0)
            {
                LargestLag = Math.Max(LargestLag, _position - onDisk());
            }

            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _hash.AppendData(buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
