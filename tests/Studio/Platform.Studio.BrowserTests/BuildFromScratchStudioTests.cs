using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Issue #14, part 4: an analyst builds the seed assistant's core flow from scratch in the genuine Studio with mouse and
/// keyboard only (Message Received → Recognize Intent: Assistant → Query Database → Format Result → Send Reply for
/// orders_today, and Control Device with its Done, Timeout and UnknownDevice replies for device_on), publishes it and
/// chats with it on <c>/chat</c>. The demo (shop database, <c>assistant</c> intent set, simulated devices) is on; the
/// seed workflows are retracted first so that only the new workflow answers.
/// </summary>
public sealed partial class BuildFromScratchStudioTests : IAsyncLifetime
{
    private const string OrdersSql = "SELECT COUNT(*) AS orders, ROUND(COALESCE(SUM(total), 0), 2) AS revenue FROM orders WHERE date(created_at) = date('now')";
    private const string OrdersTemplate = "{{ rows[0].orders }} orders came in today, {{ rows[0].revenue }} in total.";
    private const string TimeoutText = "The device did not answer in time.";
    private const string UnknownText = "Which device do you mean?";

    private ServerProcess? _server;

    public async ValueTask InitializeAsync()
    {
        _server = await ServerProcess.StartAsync("build-from-scratch", "/health", new Dictionary<string, string?>
        {
            ["Platform__Demo__Enabled"] = "true",
            ["Platform__Devices__Simulate"] = "true",
            ["Platform__Devices__SimulateOffline"] = "bedroom-light", // answers nothing: Control Device takes its Timeout port
            ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // The demo seeder publishes the seed workflows shortly after start; retract them all (bulk action) so that the
        // assistant built here is the only workflow that answers.
        using var api = _server.Api();
        var seedIds = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "workflows"), "*.json")
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!["definitionId"]!.GetValue<string>()).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var list = JsonNode.Parse(await api.GetStringAsync("/elsa/api/workflow-definitions?pageSize=100"))!;
            var stored = list["items"]!.AsArray().Select(d => d!["definitionId"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            if (seedIds.All(stored.Contains)) break;
            Assert.True(DateTime.UtcNow < deadline, $"The seed workflows were not published in time:\n{_server.Output}");
            await Task.Delay(250);
        }
        (await api.PostAsJsonAsync("/elsa/api/bulk-actions/retract/workflow-definitions/by-definition-ids",
            new JsonObject { ["definitionIds"] = new JsonArray(seedIds.Select(i => (JsonNode)i!).ToArray()) })).EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_AnswerOrdersAndSwitchDevices_When_AnAnalystBuildsTheAssistantFromScratchWithTheMouse()
    {
        var server = _server!;
        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        await page.SetViewportSizeAsync(1920, 1200); // room on the canvas for the nine nodes
        var step = Step("sign in");
        try
        {
            // Sign in with the link the server prints and create a new workflow.
            await page.GotoAsync(new Uri(server.Site, $"/?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            var createWorkflow = page.GetByRole(AriaRole.Button, new() { NameRegex = CreateWorkflowLabel() }).First;
            await createWorkflow.ClickAsync();
            step = Step("create the workflow");
            var dialog = page.Locator(".mud-dialog");
            await dialog.GetByLabel("Name").FillAsync("Assistant built by hand");
            await dialog.GetByRole(AriaRole.Button, new() { NameRegex = OkLabel() }).ClickAsync();
            await page.WaitForURLAsync(EditorUrl());
            var definitionId = EditorUrl().Match(page.Url).Groups["id"].Value;
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync();
            using var api = server.Api();

            // The editor auto-saves; wait until a typed value is stored before leaving the node (a change still pending in
            // the editor when another node is selected can be lost).
            async Task SavedAsync(string value)
            {
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (true)
                {
                    var latest = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Latest"))!;
                    if (Strings(latest).Any(v => v.Contains(value, StringComparison.Ordinal))) return;
                    Assert.True(DateTime.UtcNow < deadline, $"The editor did not save \"{value}\".");
                    await Task.Delay(250);
                }
            }

            // Drop the activities from the palette: the trigger and Recognize Intent on the left, the orders chain and Control
            // Device in the middle, the device replies on the right.
            step = Step("drop the activities");
            // Positions are fractions of the canvas, so that every node is on screen at the browser's size.
            var area = await canvas.BoundingBoxAsync() ?? throw new InvalidOperationException("the canvas is not visible");
            int X(double f) => (int)(area.Width * f);
            int Y(double f) => (int)(area.Height * f);
            var received = await DropAsync(page, canvas, "Message Received", MessageReceivedItem(), "MessageReceived1", X(0.01), Y(0.02));
            var intent = await DropAsync(page, canvas, "Assistant", RecognizeAssistantItem(), "RecognizeIntentAssistant1", X(0.01), Y(0.25));
            var query = await DropAsync(page, canvas, "Query Database", QueryDatabaseItem(), "QueryDatabase1", X(0.40), Y(0.02));
            var format = await DropAsync(page, canvas, "Format Result", FormatResultItem(), "FormatResult1", X(0.40), Y(0.17));
            var ordersReply = await DropAsync(page, canvas, "Send Reply", SendReplyItem(), "SendReply1", X(0.40), Y(0.32));
            var device = await DropAsync(page, canvas, "Control Device", ControlDeviceItem(), "ControlDevice1", X(0.40), Y(0.55));
            var doneReply = await DropAsync(page, canvas, "Send Reply", SendReplyItem(), "SendReply2", X(0.72), Y(0.50));
            var timeoutReply = await DropAsync(page, canvas, "Send Reply", SendReplyItem(), "SendReply3", X(0.72), Y(0.66));
            var unknownReply = await DropAsync(page, canvas, "Send Reply", SendReplyItem(), "SendReply4", X(0.72), Y(0.82));

            // The freshly dropped Recognize Intent node has one readable port per intent (and OutOfScope).
            step = Step("check the intent ports of the new node");
            var intentPorts = intent.Locator("[port-group='out'].x6-port-body");
            var portCentres = new List<double>();
            for (var i = 0; i < await intentPorts.CountAsync(); i++)
            {
                var box = await intentPorts.Nth(i).BoundingBoxAsync() ?? throw new InvalidOperationException("an intent port is not visible");
                portCentres.Add(box.Y + box.Height / 2);
            }
            portCentres.Sort();
            var gaps = portCentres.Zip(portCentres.Skip(1), (a, b) => b - a).ToList();
            TestContext.Current.TestOutputHelper?.WriteLine("Port gaps of the new Recognize Intent node (px): " + string.Join(", ", gaps.Select(g => g.ToString("0.0"))));
            Assert.True(gaps.Count >= 6 && gaps.All(g => g >= 20), "Port gaps of the new Recognize Intent node (px): " + string.Join(", ", gaps.Select(g => g.ToString("0.0"))));

            // Connect the ports by dragging.
            step = Step("connect the ports");
            await ConnectAsync(page, received, "Done", intent);
            await ConnectAsync(page, intent, "orders_today", query);
            await ConnectAsync(page, query, "Done", format);
            await ConnectAsync(page, format, "Done", ordersReply);
            await ConnectAsync(page, intent, "device_on", device);
            await ConnectAsync(page, device, "Done", doneReply);
            await ConnectAsync(page, device, "Timeout", timeoutReply);
            await ConnectAsync(page, device, "UnknownDevice", unknownReply);
            await canvas.Locator("g.x6-edge").Nth(7).WaitForAsync(new() { State = WaitForSelectorState.Attached });

            // Set the inputs by typing in the property panels. Expressions name activities by id, as the code editor's
            // completion offers them (getOutput('<id>', ...)).
            var intentId = await IdAsync(intent);
            step = Step("Query Database's inputs");
            await SelectAsync(page, query, "Data Source");
            await TypeLiteralAsync(page, "Data Source", "demo");
            await TypeCodeAsync(page, "Sql", OrdersSql);
            await SavedAsync(OrdersSql);

            step = Step("Format Result's inputs");
            await SelectAsync(page, format, "Template");
            await TypeScriptAsync(page, "Rows", $"getOutput('{await IdAsync(query)}', 'Rows')");
            await TypeLiteralAsync(page, "Template", OrdersTemplate, multiLine: true);
            await SavedAsync(OrdersTemplate);
            await SavedAsync($"getOutput('{await IdAsync(query)}', 'Rows')");

            step = Step("the orders reply");
            await SelectAsync(page, ordersReply, "Text");
            await TypeScriptAsync(page, "Text", $"getOutput('{await IdAsync(format)}', 'Text')");
            await SavedAsync($"getOutput('{await IdAsync(format)}', 'Text')");

            step = Step("Control Device's inputs");
            await SelectAsync(page, device, "Device Name");
            await TypeScriptAsync(page, "Device Name", $"(getOutput('{intentId}', 'Entities') || {{}}).device || ''");
            await TypeScriptAsync(page, "Room", $"(getOutput('{intentId}', 'Entities') || {{}}).room || ''");
            await ChooseAsync(page, "Command", "on");
            await SavedAsync($"(getOutput('{intentId}', 'Entities') || {{}}).room");

            step = Step("the device replies");
            await SelectAsync(page, doneReply, "Text");
            await TypeScriptAsync(page, "Text", $"getOutput('{await IdAsync(device)}', 'Message')");
            await SavedAsync($"getOutput('{await IdAsync(device)}', 'Message')");
            await SelectAsync(page, timeoutReply, "Text");
            await TypeLiteralAsync(page, "Text", TimeoutText, multiLine: true);
            await SavedAsync(TimeoutText);
            await SelectAsync(page, unknownReply, "Text");
            await TypeLiteralAsync(page, "Text", UnknownText, multiLine: true);
            await SavedAsync(UnknownText);

            // Publish.
            step = Step("publish");
            await page.Locator(".mud-button-group-root button.mud-primary-text").First.ClickAsync();
            await page.GetByText("Workflow published").First.WaitForAsync();
            var published = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Published"))!;
            var connections = published["root"]!["connections"]!.AsArray()
                .Select(c => $"{c!["source"]!["activity"]}:{c["source"]!["port"]}->{c["target"]!["activity"]}").ToList();
            Assert.Contains($"{intentId}:orders_today->{await IdAsync(query)}", connections);
            Assert.Contains($"{await IdAsync(device)}:UnknownDevice->{await IdAsync(unknownReply)}", connections);

            // Chat with it on the web chat page.
            step = Step("chat");
            await page.GotoAsync(new Uri(server.Site, "/chat").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();
            await SayAsync(page, "how many orders came in today?", "5 orders came in today, 575.6 in total.", 1);
            var on = await SayAsync(page, "turn on the kitchen light", "kitchen light", 2);
            Assert.Contains(" on", on, StringComparison.OrdinalIgnoreCase);
            var kitchen = JsonNode.Parse(await api.GetStringAsync("/api/devices/kitchen-light/state"))!;
            Assert.True(kitchen["state"]?["on"]?.GetValue<bool>() == true, kitchen.ToJsonString());
            await SayAsync(page, "turn on the bedroom light", TimeoutText, 3);
            var bedroom = JsonNode.Parse(await api.GetStringAsync("/api/devices/bedroom-light/state"))!;
            Assert.NotEqual(true, bedroom["state"]?["on"]?.GetValue<bool>());
            await SayAsync(page, "switch on the light", UnknownText, 4);

            // One answer per message: the seed assistant stays quiet.
            await page.Locator("#chat-input").FillAsync("how many orders came in today?");
            await page.Locator("#chat-input").PressAsync("Enter");
            await page.Locator(".chat-msg.bot").Nth(4).WaitForAsync();
            await page.Locator(".chat-msg.user", new() { HasText = "delivered" }).Nth(4).WaitForAsync();
            Assert.Equal(5, await page.Locator(".chat-msg.bot").CountAsync());
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_AnswerOrdersAndSwitchDevices_When_AnAnalystBuildsTheAssistantFromScratchWithTheMouse));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"While doing \"{step}\": {failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>Every string value in <paramref name="node"/>.</summary>
    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    /// <summary>Writes the step to the test output (it shows where a run that timed out stopped) and returns it.</summary>
    private static string Step(string step)
    {
        TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {step}");
        return step;
    }

    /// <summary>Types <paramref name="text"/> in the chat and waits for the <paramref name="count"/>-th reply, which must contain <paramref name="expected"/>.</summary>
    private static async Task<string> SayAsync(IPage page, string text, string expected, int count)
    {
        await page.Locator("#chat-input").FillAsync(text);
        await page.Locator("#chat-input").PressAsync("Enter");
        var reply = page.Locator(".chat-msg.bot").Nth(count - 1);
        await reply.WaitForAsync(new() { Timeout = 30_000 });
        var said = await reply.InnerTextAsync();
        Assert.True(said.Contains(expected, StringComparison.OrdinalIgnoreCase), $"To \"{text}\" the assistant said \"{said}\", expected \"{expected}\".");
        return said;
    }

    /// <summary>Searches the palette, opens the category that holds <paramref name="item"/>, drags it onto the canvas and returns the new node.</summary>
    private static async Task<ILocator> DropAsync(IPage page, ILocator canvas, string searchTerm, Regex item, string nodeName, int x, int y)
    {
        var search = page.GetByPlaceholder("Search").First;
        await search.FillAsync(searchTerm);
        var entry = page.Locator("[draggable=true]", new() { HasTextRegex = item }).First;
        var headers = page.Locator(".mud-expand-panel-header");
        for (var i = 0; i < await headers.CountAsync() && !await entry.IsVisibleAsync(); i++)
        {
            await headers.Nth(i).ClickAsync();
            try
            {
                await entry.WaitForAsync(new() { Timeout = 3_000 });
            }
            catch (TimeoutException)
            {
                // Not in this category; try the next one.
            }
        }
        await entry.DragToAsync(canvas, new() { TargetPosition = new() { X = x, Y = y } });
        await search.FillAsync("");
        var node = canvas.Locator("g.x6-node", new() { HasTextRegex = new Regex($"\\b{nodeName}\\b") });
        await node.WaitForAsync();
        return node;
    }

    private static async Task<string> IdAsync(ILocator node) =>
        await node.GetAttributeAsync("data-cell-id") ?? throw new InvalidOperationException("a node has no id");

    /// <summary>Drags from the node's outbound port <paramref name="port"/> to the inbound port of <paramref name="target"/>.</summary>
    private static async Task ConnectAsync(IPage page, ILocator source, string port, ILocator target)
    {
        var edges = await page.Locator(".graph-container.x6-graph g.x6-edge").CountAsync();
        var from = await source.Locator($"[port-group='out'][port='{port}'].x6-port-body").BoundingBoxAsync()
                   ?? throw new InvalidOperationException($"port {port} is not visible");
        var to = await target.Locator("[port-group='in'].x6-port-body").BoundingBoxAsync() ?? throw new InvalidOperationException("the target's In port is not visible");
        await page.Mouse.MoveAsync(from.X + from.Width / 2, from.Y + from.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(to.X + to.Width / 2, to.Y + to.Height / 2, new() { Steps = 15 });
        await page.Mouse.UpAsync();
        await page.Locator(".graph-container.x6-graph g.x6-edge").Nth(edges).WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 10_000 });
    }

    /// <summary>Clicks the node (on its icon, clear of the node's menu button) and opens the Input tab, which shows <paramref name="label"/>.</summary>
    private static async Task SelectAsync(IPage page, ILocator node, string label)
    {
        // Leave the current node first (click the empty canvas). When the previous node's panel had the same field, wait
        // until the panel is built anew for this node (its editors are new elements).
        var canvasBox = await page.Locator(".graph-container.x6-graph").BoundingBoxAsync() ?? throw new InvalidOperationException("no canvas");
        await page.Mouse.ClickAsync(canvasBox.X + 15, canvasBox.Y + canvasBox.Height - 15);
        var previous = await Editor(page, label).CountAsync() > 0 ? await Editor(page, label).ElementHandleAsync() : null;

        var box = await node.BoundingBoxAsync() ?? throw new InvalidOperationException("node not visible");
        await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
        await page.Locator("[role='tab']", new() { HasTextRegex = InputTab() }).First.ClickAsync(new() { Timeout = 15_000 });
        if (previous is not null)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (await previous.EvaluateAsync<bool>("e => e.isConnected"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"The property panel still shows the previous node's \"{label}\".");
                await Task.Delay(100);
            }
        }
        await Editor(page, label).WaitForAsync(new() { Timeout = 15_000 });
    }

    /// <summary>The visible field labelled <paramref name="label"/> in the property panel.</summary>
    private static ILocator Editor(IPage page, string label) =>
        page.Locator(".mud-input-control:visible", new() { Has = page.Locator("label", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(label)}\\s*$") }) }).First;

    private static async Task TypeLiteralAsync(IPage page, string label, string text, bool multiLine = false)
    {
        var field = Editor(page, label).Locator(multiLine ? "textarea:visible" : "input:visible").First;
        await field.ClickAsync();
        await field.FillAsync(text);
        await field.PressAsync("Tab");
    }

    /// <summary>Types into the code editor (Monaco) of the field; the text is inserted as typed, without the editor's auto-closing brackets.</summary>
    private static async Task TypeCodeAsync(IPage page, string label, string code)
    {
        var editor = Editor(page, label).Locator(".monaco-editor .view-lines").First;
        await editor.WaitForAsync();
        await editor.ClickAsync();
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.InsertTextAsync(code);
        // Monaco renders the text with non-breaking spaces; wait until the start of the code is on screen.
        var start = code[..Math.Min(20, code.Length)];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(await editor.InnerTextAsync()).Replace('\u00a0', ' ').Contains(start, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The code editor of {label} does not show \"{start}\".");
            await Task.Delay(100);
        }
    }

    /// <summary>Switches the field to JavaScript with its syntax menu (unless it is one already) and types the script.</summary>
    private static async Task TypeScriptAsync(IPage page, string label, string script)
    {
        if (await Editor(page, label).Locator(".monaco-editor").CountAsync() == 0)
        {
            // The editor and its syntax menu (the ⋮ button) sit side by side in a row.
            var row = Editor(page, label).Locator("xpath=ancestor::div[@role='group' and contains(concat(' ', normalize-space(@class), ' '), ' flex-row ')][1]");
            await row.Locator(".mud-menu button").Last.ClickAsync();
            await page.Locator(".mud-popover-open").GetByText("JavaScript", new() { Exact = true }).First.ClickAsync();
        }
        await TypeCodeAsync(page, label, script);
    }

    /// <summary>Opens the drop-down of the field and picks <paramref name="option"/>.</summary>
    private static async Task ChooseAsync(IPage page, string label, string option)
    {
        await Editor(page, label).Locator(".mud-select, .mud-input").First.ClickAsync();
        await page.Locator(".mud-popover-open").GetByText(option, new() { Exact = true }).First.ClickAsync();
    }

    [GeneratedRegex("create workflow", RegexOptions.IgnoreCase)]
    private static partial Regex CreateWorkflowLabel();

    [GeneratedRegex("^\\s*ok\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex OkLabel();

    [GeneratedRegex("/workflows/definitions/(?<id>[^/?#]+)/edit$")]
    private static partial Regex EditorUrl();

    [GeneratedRegex("^\\s*Input\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex InputTab();

    [GeneratedRegex("^\\s*Message Received\\s*$")]
    private static partial Regex MessageReceivedItem();

    [GeneratedRegex("^\\s*Recognize Intent: Assistant\\s*$")]
    private static partial Regex RecognizeAssistantItem();

    [GeneratedRegex("^\\s*Query Database\\s*$")]
    private static partial Regex QueryDatabaseItem();

    [GeneratedRegex("^\\s*Format Result\\s*$")]
    private static partial Regex FormatResultItem();

    [GeneratedRegex("^\\s*Send Reply\\s*$")]
    private static partial Regex SendReplyItem();

    [GeneratedRegex("^\\s*Control Device\\s*$")]
    private static partial Regex ControlDeviceItem();
}
