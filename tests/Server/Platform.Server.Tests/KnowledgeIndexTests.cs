using System.Text;
using Platform.Engine.Knowledge;
using Platform.Knowledge;

namespace Platform.Server.Tests;

/// <summary>The knowledge pieces without a server: chunking, CJK terms, HTML stripping, the size limit, keyword-only search.</summary>
public sealed class KnowledgeIndexTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Should_KeepHeadingsAndOverlap_When_SplittingALongSection()
    {
        // Arrange
        var sentences = string.Join(' ', Enumerable.Range(1, 60).Select(i => $"Sentence number {i} talks about topic {i}."));
        var text = $"# Guide\n\n## Install\n\n{sentences}\n\n## Use\n\nShort part.";

        // Act
        var chunks = Chunker.Split(text, size: 400, overlap: 80);

        // Assert
        Assert.True(chunks.Count >= 5, $"{chunks.Count} chunks");
        Assert.All(chunks, c => Assert.True(c.Text.Length <= 400 + 80, c.Text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(chunks.Take(chunks.Count - 1), c => Assert.Equal("Guide › Install", c.Title));
        Assert.Equal("Guide › Use", chunks[^1].Title);
        // Consecutive chunks share text (overlap): the start of the second is found at the end of the first.
        var firstWords = chunks[1].Text.Split(' ').Take(3);
        Assert.Contains(string.Join(' ', firstWords), chunks[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_MakeCharactersAndBigrams_When_TextIsChinese()
    {
        // Act
        var terms = Terms.Of("我要退货 please Returns");

        // Assert
        Assert.Equal(["我", "要", "我要", "退", "要退", "货", "退货", "please", "return"], terms);
    }

    [Fact]
    public void Should_NotHang_When_HtmlIsHostile()
    {
        // Arrange: unclosed tags and comments, deeply nested markup
        var hostile = "<h1>Title</h1><p>" + string.Concat(Enumerable.Repeat("<div <!-- <script ", 20000)) + "text";

        // Act
        var doc = DocumentReader.Read("x.html", null, Encoding.UTF8.GetBytes(hostile));

        // Assert
        Assert.Equal("Title", doc.Title);
    }

    [Fact]
    public async Task Should_RefuseTheUpload_When_LargerThanTheLimit()
    {
        // Arrange
        var store = new InMemoryKnowledgeStore();
        await store.CreateBaseAsync("small", null, Ct);
        var service = new KnowledgeService(store, new NoKnowledgeEncoder(), new KnowledgeOptions { MaxUploadBytes = 100 });

        // Act
        var error = await Assert.ThrowsAsync<KnowledgeInputException>(() => service.UploadAsync("small", "big.txt", null, new byte[101], Ct));

        // Assert
        Assert.Contains("MaxUploadBytes", error.Message);
        Assert.Empty(await store.ListDocumentsAsync("small", Ct));
    }

    [Fact]
    public async Task Should_RankByKeywords_When_NoEncoderIsThere()
    {
        // Arrange
        var store = new InMemoryKnowledgeStore();
        await store.CreateBaseAsync("kw", null, Ct);
        var service = new KnowledgeService(store, new NoKnowledgeEncoder(), new KnowledgeOptions());
        await service.UploadAsync("kw", "a.md", null, Encoding.UTF8.GetBytes("# Cats\n\nCats sleep most of the day."), Ct);
        await service.UploadAsync("kw", "b.md", null, Encoding.UTF8.GetBytes("# Dogs\n\nDogs need a walk twice a day."), Ct);

        // Act
        var hits = await service.SearchAsync("kw", "how often do dogs walk", 5, Ct);
        var none = await service.SearchAsync("kw", "spaceships", 5, Ct);

        // Assert
        Assert.Equal("b.md", hits[0].Source);
        Assert.Equal("Dogs", hits[0].Title);
        Assert.Empty(none);
    }
}
