using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// /api/knowledge against the real server (SQLite and PostgreSQL) with the local MiniLM encoder: upload, chunking, hybrid
/// search, re-indexing on replace, deletion, bad input and roles, and the Retrieve activity in a workflow.
/// </summary>
public abstract class KnowledgeApiTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Admin => server.Admin;
    private const string Api = "/api/knowledge";

    private const string Guide = """
        # Staff handbook

        ## Office access
        The building opens at 7:30 on weekdays. Badges are handed out by the front desk on your first day; a lost badge
        is replaced by security for a fee of ten euros.

        ## Resetting your password
        If you forgot your password, open the account portal and choose "Forgot password". A reset link is e-mailed to you
        and stays valid for thirty minutes. After three failed attempts the account is locked for an hour.

        ## Expenses
        Travel expenses are refunded within two weeks when the receipts are uploaded to the finance tool. Meals abroad are
        covered up to forty euros a day.
        """;

    private static string UniqueBase(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..30];

    private async Task<string> CreateBaseAsync(string prefix)
    {
        var name = UniqueBase(prefix);
        await Admin.PostJsonAsync(Api, new JsonObject { ["name"] = name, ["description"] = "test" }, HttpStatusCode.Created);
        return name;
    }

    private Task<HttpResponseMessage> PutAsync(string kb, string document, byte[] body, string? contentType = null, HttpClient? client = null)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return (client ?? Admin).PutAsync($"{Api}/{kb}/documents/{Uri.EscapeDataString(document)}", content, Ct);
    }

    private async Task<JsonObject> UploadAsync(string kb, string document, string text, HttpStatusCode expected = HttpStatusCode.Created)
    {
        using var response = await PutAsync(kb, document, Encoding.UTF8.GetBytes(text));
        return await response.ReadJsonAsync(expected);
    }

    private async Task<JsonArray> SearchAsync(string kb, string query, int top = 5) =>
        (await Admin.GetJsonAsync($"{Api}/{kb}/search?q={Uri.EscapeDataString(query)}&top={top}"))["hits"]!.AsArray();

    [Fact]
    public async Task Should_FindTheRightSection_When_AskingInOtherWords()
    {
        // Arrange
        var kb = await CreateBaseAsync("handbook");
        var upload = await UploadAsync(kb, "handbook.md", Guide);

        // Act
        var hits = await SearchAsync(kb, "I can't remember my login credentials, how do I get new ones?", top: 3);

        // Assert
        var document = upload["document"]!;
        Assert.Equal("markdown", document.Str("contentType"));
        Assert.Equal("Staff handbook", document.Str("title"));
        Assert.Equal(3, document["chunks"]!.GetValue<int>());
        Assert.Equal("minilm", document.Str("embeddingModel"));
        var best = hits[0]!;
        Assert.Equal("Staff handbook › Resetting your password", best.Str("title"));
        Assert.Equal("handbook.md", best.Str("source"));
        Assert.True(best["similarity"]!.GetValue<double>() > 0.3, best.ToJsonString());
        var list = await Admin.GetFromJsonAsync<JsonArray>(Api, Ct);
        var mine = list!.Single(b => b!.Str("name") == kb)!;
        Assert.Equal(1, mine["documents"]!.GetValue<int>());
        Assert.Equal(3, mine["chunks"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_FindChineseText_When_QueryHasNoSpaces()
    {
        // Arrange
        var kb = await CreateBaseAsync("zh");
        await UploadAsync(kb, "退货.txt", "退货政策：商品在购买后三十天内可以无理由退货，请保留发票。");
        await UploadAsync(kb, "配送.txt", "配送说明：订单在两个工作日内发货，偏远地区需要五天。");

        // Act
        var hits = await SearchAsync(kb, "怎么退货", top: 1);

        // Assert
        Assert.Equal("退货.txt", hits.Single()!.Str("source"));
        Assert.True(hits.Single()!["keyword"]!.GetValue<double>() > 0);
    }

    [Fact]
    public async Task Should_ReindexDocument_When_ReplacedUnderTheSameName()
    {
        // Arrange
        var kb = await CreateBaseAsync("replace");
        await UploadAsync(kb, "notes.md", "# Notes\n\nThe office wifi password is written on the whiteboard in the kitchen.");
        Assert.Contains("whiteboard", (await SearchAsync(kb, "wifi password"))[0]!.Str("text"));

        // Act
        var replaced = await UploadAsync(kb, "notes.md", "# Notes\n\nParking permits are issued by the facilities team on Mondays.\n\n## Bikes\n\nBikes go in the basement.",
            HttpStatusCode.OK);
        var hits = await SearchAsync(kb, "wifi password whiteboard");
        var parking = await SearchAsync(kb, "who issues parking permits");

        // Assert
        Assert.True(replaced["replaced"]!.GetValue<bool>());
        Assert.DoesNotContain(hits, h => h!.Str("text").Contains("whiteboard", StringComparison.Ordinal));
        Assert.Contains("facilities team", parking[0]!.Str("text"));
        var detail = await Admin.GetJsonAsync($"{Api}/{kb}");
        Assert.Equal(2, detail["documents"]!.AsArray().Single()!["chunks"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_RemoveChunks_When_DocumentOrBaseIsDeleted()
    {
        // Arrange
        var kb = await CreateBaseAsync("delete");
        await UploadAsync(kb, "keep.md", "# Keep\n\nThe cafeteria serves lunch from noon to two.");
        await UploadAsync(kb, "drop.md", "# Drop\n\nThe printer on floor three needs A4 paper refills every Friday.");
        Assert.Contains(await SearchAsync(kb, "printer paper"), h => h!.Str("source") == "drop.md");

        // Act
        using var deleted = await Admin.DeleteAsync($"{Api}/{kb}/documents/drop.md", Ct);
        using var again = await Admin.DeleteAsync($"{Api}/{kb}/documents/drop.md", Ct);
        var hits = await SearchAsync(kb, "printer paper");
        var detail = await Admin.GetJsonAsync($"{Api}/{kb}");
        using var baseDeleted = await Admin.DeleteAsync($"{Api}/{kb}", Ct);
        using var searchGone = await Admin.GetAsync($"{Api}/{kb}/search?q=lunch", Ct);

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await again.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain(hits, h => h!.Str("source") == "drop.md");
        Assert.Equal("keep.md", detail["documents"]!.AsArray().Single()!.Str("name"));
        Assert.Equal(HttpStatusCode.NoContent, baseDeleted.StatusCode);
        await searchGone.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_IndexHtmlWithoutScripts_And_Pdf_When_Uploaded()
    {
        // Arrange
        var kb = await CreateBaseAsync("formats");
        const string html = """
            <html><head><title>Returns &amp; refunds</title><style>body { color: red }</style></head>
            <body><script>var secretToken = "do-not-index";</script>
            <h1>Returns</h1><p>Items can be returned within <b>30 days</b> with the receipt.</p><!-- hidden comment -->
            </body></html>
            """;
        var pdf = new PdfDocumentBuilder();
        var page = pdf.AddPage(595, 842);
        var font = pdf.AddStandard14Font(Standard14Font.Helvetica);
        page.AddText("Warranty claims are handled by the service centre in Lyon.", 12, new PdfPoint(40, 700), font);

        // Act
        using var htmlUpload = await PutAsync(kb, "returns.html", Encoding.UTF8.GetBytes(html));
        using var pdfUpload = await PutAsync(kb, "warranty", pdf.Build(), "application/pdf");
        var warranty = await SearchAsync(kb, "where are warranty claims handled");
        var script = await SearchAsync(kb, "secretToken do-not-index");

        // Assert
        var htmlDoc = (await htmlUpload.ReadJsonAsync(HttpStatusCode.Created))["document"]!;
        Assert.Equal("html", htmlDoc.Str("contentType"));
        Assert.Equal("Returns & refunds", htmlDoc.Str("title"));
        Assert.Equal("pdf", (await pdfUpload.ReadJsonAsync(HttpStatusCode.Created))["document"]!.Str("contentType"));
        Assert.Equal("warranty", warranty[0]!.Str("source"));
        Assert.Contains("Lyon", warranty[0]!.Str("text"));
        Assert.DoesNotContain(script, h => h!.Str("text").Contains("secretToken", StringComparison.Ordinal) || h!.Str("text").Contains("color", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Answer4xxWithHowToFix_When_InputIsBad()
    {
        // Arrange
        var kb = await CreateBaseAsync("bad");

        // Act
        using var badName = await Admin.PostAsJsonAsync(Api, new JsonObject { ["name"] = "../etc" }, Ct);
        using var duplicate = await Admin.PostAsJsonAsync(Api, new JsonObject { ["name"] = kb }, Ct);
        using var malformed = await Admin.PostAsync(Api, new StringContent("{\"name\":", Encoding.UTF8, "application/json"), Ct);
        using var unknownBase = await PutAsync("no-such-base-" + Guid.NewGuid().ToString("N")[..8], "a.md", "# A\n\ntext"u8.ToArray());
        using var invalidUtf8 = await PutAsync(kb, "broken.txt", [0x48, 0x69, 0xC3, 0x28, 0xFF]);
        using var fakePdf = await PutAsync(kb, "fake.pdf", "%PDF-1.7 this is not really a pdf"u8.ToArray());
        using var unknownType = await PutAsync(kb, "image.png", [0x89, 0x50, 0x4E, 0x47]);
        using var empty = await PutAsync(kb, "empty.md", []);
        using var noQuery = await Admin.GetAsync($"{Api}/{kb}/search?q=", Ct);
        using var badTop = await Admin.GetAsync($"{Api}/{kb}/search?q=hello&top=0", Ct);
        using var unknownSearch = await Admin.GetAsync($"{Api}/nothing-{Guid.NewGuid():N}/search?q=hello", Ct);

        // Assert
        await badName.AssertProblemAsync(HttpStatusCode.BadRequest);
        await duplicate.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        await unknownBase.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("UTF-8", (await invalidUtf8.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        Assert.Contains("PDF", (await fakePdf.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        Assert.Contains(".md", (await unknownType.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        await empty.AssertProblemAsync(HttpStatusCode.BadRequest);
        await noQuery.AssertProblemAsync(HttpStatusCode.BadRequest);
        await badTop.AssertProblemAsync(HttpStatusCode.BadRequest);
        await unknownSearch.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await Admin.GetJsonAsync($"{Api}/{kb}"))["documents"]!.AsArray());
    }

    private Task<HttpResponseMessage> PostFormAsync(string kb, string fileName, byte[] body, string field = "file", string? contentType = null)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(body);
        if (contentType is not null) file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        form.Add(file, field, fileName);
        return Admin.PostAsync($"{Api}/{kb}/documents", form, Ct);
    }

    [Fact]
    public async Task Should_IndexTheFile_When_ItIsUploadedAsAMultipartForm()
    {
        // Arrange
        var kb = await CreateBaseAsync("form");

        // Act: what the Knowledge page sends (FormData with the field "file"), twice under the same name.
        using var created = await PostFormAsync(kb, "handbook.md", Encoding.UTF8.GetBytes(Guide), contentType: "text/markdown");
        using var replaced = await PostFormAsync(kb, "handbook.md", Encoding.UTF8.GetBytes(Guide.Replace("thirty minutes", "one hour", StringComparison.Ordinal)));

        // Assert: indexed as with PUT, the second upload replaced (re-indexed) the first.
        var first = await created.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("handbook.md", first["document"]!.Str("name"));
        Assert.Equal(3, first["document"]!["chunks"]!.GetValue<int>());
        Assert.True((await replaced.ReadJsonAsync(HttpStatusCode.OK))["replaced"]!.GetValue<bool>());
        var documents = (await Admin.GetJsonAsync($"{Api}/{kb}"))["documents"]!.AsArray();
        Assert.Equal("handbook.md", Assert.Single(documents)!.Str("name"));
        Assert.Contains("one hour", (await SearchAsync(kb, "how long is the password reset link valid", top: 1))[0]!.Str("text"));
    }

    [Fact]
    public async Task Should_Answer4xxWithHowToFix_When_AFormUploadIsBad()
    {
        // Arrange
        var kb = await CreateBaseAsync("badform");
        var limit = 10 * 1024 * 1024; // Platform:Knowledge:MaxUploadBytes, the default

        // Act
        using var notAForm = await Admin.PostAsync($"{Api}/{kb}/documents", new StringContent("# A\n\ntext", Encoding.UTF8, "text/markdown"), Ct);
        using var noFile = await PostFormAsync(kb, "a.md", "# A\n\ntext"u8.ToArray(), field: "document");
        using var unknownType = await PostFormAsync(kb, "image.png", [0x89, 0x50, 0x4E, 0x47], contentType: "image/png");
        using var tooLarge = await PostFormAsync(kb, "big.md", Enumerable.Repeat((byte)'a', limit + 1).ToArray());
        using var unknownBase = await PostFormAsync("no-such-base-" + Guid.NewGuid().ToString("N")[..8], "a.md", "# A\n\ntext"u8.ToArray());

        // Assert
        Assert.Contains("multipart/form-data", (await notAForm.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType)).Str("detail"));
        Assert.Contains("'file'", (await noFile.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        Assert.Contains(".md", (await unknownType.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        Assert.Contains("Platform:", (await tooLarge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Str("detail")); // the limit to raise
        await unknownBase.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await Admin.GetJsonAsync($"{Api}/{kb}"))["documents"]!.AsArray());
    }

    [Fact]
    public async Task Should_OfferNewKnowledgeBasesAndToolWorkflows_When_TheDescriptorsAreRequestedAgain()
    {
        // Arrange: the Studio loads the descriptors; then a knowledge base and a workflow usable as a tool are created.
        static JsonObject Input(JsonObject descriptors, string type, string input) => descriptors["items"]!.AsArray()
            .Single(d => d!.Str("typeName") == type)!["inputs"]!.AsArray().Single(i => i!.Str("name") == input)!.AsObject();
        var before = await Admin.GetJsonAsync("/elsa/api/descriptors/activities");
        var kb = await CreateBaseAsync("choices");
        var name = "Opening hours " + Guid.NewGuid().ToString("N")[..6];
        var tool = Sequence(name, null, Activity("w", "Elsa.WriteLine", ("text", Literal("String", "open"))));
        tool["description"] = "Tells the opening hours of a shop.";
        tool["options"] = new JsonObject { ["usableAsActivity"] = true };
        tool["inputs"] = new JsonArray(new JsonObject { ["name"] = "shop", ["type"] = "String", ["displayName"] = "Shop" });
        await Admin.SaveAsync(tool, publish: true);
        var toolName = "workflow_" + name.ToLowerInvariant().Replace(' ', '_');

        // Act: the designer is reloaded.
        var after = await Admin.GetJsonAsync("/elsa/api/descriptors/activities");

        // Assert: Retrieve's KnowledgeBase is a drop-down of the bases, the agent's Tools checklist offers the new workflow.
        Assert.DoesNotContain(kb, Input(before, "Platform.Retrieve", "KnowledgeBase").ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(toolName, Input(before, "Platform.AiAgent", "Tools").ToJsonString(), StringComparison.Ordinal);
        var retrieve = Input(after, "Platform.Retrieve", "KnowledgeBase");
        Assert.Equal("dropdown", retrieve.Str("uiHint"));
        Assert.Contains(retrieve["uiSpecifications"]!["dropdown"]!["selectList"]!["items"]!.AsArray(), i => i!.Str("value") == kb);
        Assert.Contains(kb, Input(after, "Platform.AiAgent", "KnowledgeBase").ToJsonString(), StringComparison.Ordinal);
        var tools = Input(after, "Platform.AiAgent", "Tools");
        Assert.Contains(tools["uiSpecifications"]!["checklist"]!["checkList"]!["items"]!.AsArray(), i => i!.Str("value") == toolName);
    }

    [Fact]
    public async Task Should_LetReadersSearchButNotWrite_When_RoleIsBelowDesigner()
    {
        // Arrange
        var kb = await CreateBaseAsync("roles");
        await UploadAsync(kb, "faq.md", "# FAQ\n\nThe help desk answers the phone from nine to five.");

        // Act
        using var list = await server.Operator.GetAsync(Api, Ct);
        using var search = await server.Operator.GetAsync($"{Api}/{kb}/search?q=help+desk+hours", Ct);
        using var create = await server.Operator.PostAsJsonAsync(Api, new JsonObject { ["name"] = UniqueBase("op") }, Ct);
        using var upload = await PutAsync(kb, "x.md", "# X\n\ny"u8.ToArray(), client: server.Operator);
        using var delete = await server.Operator.DeleteAsync($"{Api}/{kb}", Ct);
        using var anonymous = await server.Factory.CreateClient(apiKey: null).GetAsync(Api, Ct);

        // Assert
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(HttpStatusCode.OK, search.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Single((await Admin.GetJsonAsync($"{Api}/{kb}"))["documents"]!.AsArray());
    }

    [Fact]
    public async Task Should_ReturnNumberedContext_When_RetrieveRunsInAWorkflow()
    {
        // Arrange
        var kb = await CreateBaseAsync("retrieve");
        await UploadAsync(kb, "handbook.md", Guide);
        var model = new JsonObject
        {
            ["name"] = UniqueName("retrieve"),
            ["variables"] = new JsonArray(
                new JsonObject { ["id"] = "var-context", ["name"] = "context", ["typeName"] = "String", ["value"] = "" },
                new JsonObject { ["id"] = "var-missing", ["name"] = "missing", ["typeName"] = "String", ["value"] = "" }),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    Activity("start1", "Elsa.Start"),
                    Activity("retrieve", "Platform.Retrieve", ("knowledgeBase", Literal("String", kb)),
                        ("query", Literal("String", "how long is the password reset link valid")), ("top", Literal("Int32", 2))),
                    Activity("set1", "Elsa.SetVariable",
                        ("variable", new JsonObject { ["id"] = "var-context", ["name"] = "context", ["typeName"] = "String" }),
                        ("value", new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "getOutput('retrieve', 'Context')" } })),
                    Activity("retrieve2", "Platform.Retrieve", ("knowledgeBase", Literal("String", "missing-" + kb)), ("query", Literal("String", "anything"))),
                    Activity("set2", "Elsa.SetVariable",
                        ("variable", new JsonObject { ["id"] = "var-missing", ["name"] = "missing", ["typeName"] = "String" }),
                        ("value", new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "getOutput('retrieve2', 'Error')" } }))),
                ["connections"] = new JsonArray(Connect("start1", "retrieve"), Connect("retrieve", "set1", "Found"), Connect("set1", "retrieve2"),
                    Connect("retrieve2", "set2", "NotFound")),
            },
        };
        var definition = await Admin.SaveAsync(model, publish: true);

        // Act
        var (instanceId, _) = await Admin.ExecuteAsync(definition.Str("definitionId"), "Published");
        var variables = (await Admin.GetJsonAsync($"/elsa/api/workflow-instances/{instanceId}/variables"))["items"]!.AsArray();

        // Assert
        var context = variables.Single(v => v!.Str("name") == "context")!.Str("value");
        Assert.StartsWith("[1] Staff handbook › Resetting your password (handbook.md)\n", context, StringComparison.Ordinal);
        Assert.Contains("thirty minutes", context);
        Assert.Contains("does not exist", variables.Single(v => v!.Str("name") == "missing")!.Str("value"));
    }
}

public sealed class SqliteKnowledgeApiTests(SqliteServerFixture server) : KnowledgeApiTests(server), IClassFixture<SqliteServerFixture>;

public sealed class PostgresKnowledgeApiTests(PostgresServerFixture server) : KnowledgeApiTests(server), IClassFixture<PostgresServerFixture>;
