using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;

namespace Platform.Server.Tests;

/// <summary><c>POST /api/attachments</c> and <c>GET /api/attachments/{id}</c>: 50 MB streamed in and out, limits per channel.</summary>
public sealed class AttachmentsApiTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private const long FiftyMegabytes = 50L * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpResponseMessage> UploadAsync(Stream body, string query, string contentType, long? length = null)
    {
        var content = new StreamContent(body, 81920);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (length is not null) content.Headers.ContentLength = length;
        return await server.Admin.PostAsync("/api/attachments" + query, content, Ct);
    }

    [Fact]
    public async Task Should_StoreAndServeA50MegabyteFile_When_Uploaded()
    {
        using var source = new GeneratedStream(FiftyMegabytes, seed: 11);

        using var uploaded = await UploadAsync(source, "?name=clip.mp4", "video/mp4", FiftyMegabytes);
        var created = await uploaded.ReadJsonAsync(HttpStatusCode.Created);
        using var download = await server.Operator.GetAsync(created.Str("url"), HttpCompletionOption.ResponseHeadersRead, Ct);
        await using var body = await download.Content.ReadAsStreamAsync(Ct);
        var downloadedHash = Convert.ToHexStringLower(await SHA256.HashDataAsync(body, Ct));

        Assert.Equal(FiftyMegabytes, created["size"]!.GetValue<long>());
        Assert.Equal(source.Sha256(), created.Str("sha256"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(source.Sha256(), downloadedHash);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType); // not an inline image: downloads
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        var file = Path.Combine(server.DataDirectory, "attachments", created.Str("id")[..2], created.Str("id") + ".bin");
        Assert.Equal(FiftyMegabytes, new FileInfo(file).Length);
    }

    [Fact]
    public async Task Should_Refuse413Or400WithHowToFix_When_TooLargeOrOfATypeTheChannelDoesNotAccept()
    {
        var name = "att-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = "attachment-test-secret-0123456789abcdef", ["maxAttachmentBytes"] = "1000", ["allowedAttachmentTypes"] = "image/*" },
        }, HttpStatusCode.Created);

        using var tooLargeDeclared = await UploadAsync(new GeneratedStream(FiftyMegabytes + 1, seed: 1), "?name=big.bin", "application/octet-stream", FiftyMegabytes + 1);
        using var tooLargeForChannel = await UploadAsync(new GeneratedStream(5000, seed: 2), $"?name=a.png&channel={name}", "image/png");
        using var wrongType = await UploadAsync(new GeneratedStream(10, seed: 3), $"?name=a.exe&channel={name}", "application/x-msdownload");
        using var unknownChannel = await UploadAsync(new GeneratedStream(10, seed: 4), "?name=a.png&channel=no-such-channel", "image/png");
        using var image = await UploadAsync(new GeneratedStream(500, seed: 5), $"?name=a.png&channel={name}", "image/png");
        var stored = await image.ReadJsonAsync(HttpStatusCode.Created);
        using var inline = await server.Operator.GetAsync(stored.Str("url"), Ct);

        Assert.Contains("the limit is", (await tooLargeDeclared.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Str("detail"), StringComparison.Ordinal);
        Assert.Contains("maxAttachmentBytes", (await tooLargeForChannel.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Str("detail"), StringComparison.Ordinal);
        Assert.Contains("accepts image/*", (await wrongType.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"), StringComparison.Ordinal);
        await unknownChannel.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(name, stored.Str("channel"));
        Assert.Equal("image/png", inline.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", inline.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", inline.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Should_Answer404_When_TheIdIsUnknownOrNamesAPath()
    {
        using var unknown = await server.Operator.GetAsync("/api/attachments/" + new string('a', 32), Ct);
        using var traversal = await server.Operator.GetAsync("/api/attachments/..%2F..%2Fplatform.db", Ct);

        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);
    }

    /// <summary>A read-only stream of pseudo-random bytes, produced as it is read (never held whole).</summary>
    private sealed class GeneratedStream(long length, int seed) : Stream
    {
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
            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _hash.AppendData(buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

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
