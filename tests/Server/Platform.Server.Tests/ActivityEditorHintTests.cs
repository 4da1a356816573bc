using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Engine.Descriptors;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>
/// Every input of every activity the server offers has an editor in the genuine Studio 3.8.2: only the UI hints in
/// <see cref="UIHints"/>, sensible defaults per type, and activities with an unknown hint are refused.
/// </summary>
public sealed class ActivityEditorHintTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static async Task<JsonArray> DescriptorsWithIntentSetAsync(HttpClient admin, string setId)
    {
        var set = new JsonObject
        {
            ["id"] = setId, ["name"] = "Hint check",
            ["intents"] = new JsonArray(
                Intent("greet", "hello there", "hi", "good morning"),
                Intent("bye", "goodbye", "see you later", "bye bye")),
        };
        using var put = await admin.PutAsJsonAsync($"/api/intents/{setId}", set);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        return (await admin.GetJsonAsync($"{Api}/descriptors/activities"))["items"]!.AsArray();
    }

    private static JsonObject Intent(string name, params string[] examples) =>
        new() { ["name"] = name, ["examples"] = new JsonArray(examples.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()) };

    private static JsonNode Input(JsonArray descriptors, string typeName, string input) =>
        Assert.Single(Assert.Single(descriptors, d => d.Str("typeName") == typeName)!["inputs"]!.AsArray(), i => i.Str("name") == input)!;

    [Fact]
    public async Task Should_UseOnlyHintsTheStudioImplements_When_AnyDescriptorIsServed()
    {
        // Arrange: a per-set Recognize Intent type exists too.
        var setId = "hints" + Guid.NewGuid().ToString("N")[..8];

        // Act
        var descriptors = await DescriptorsWithIntentSetAsync(server.Admin, setId);

        // Assert: every served input (all built-in packs and the per-set type) and every registered descriptor.
        Assert.Contains(descriptors, d => d.Str("typeName") == $"Platform.RecognizeIntent.{setId}");
        var served = descriptors.SelectMany(d => d!["inputs"]!.AsArray().Select(i => (Type: d.Str("typeName"), Input: i.Str("name"), Hint: i.Str("uiHint"))))
            .Where(x => !UIHints.IsSupported(x.Hint)).Select(x => $"{x.Type}.{x.Input}: {x.Hint}").ToList();
        Assert.True(served.Count == 0, "Unsupported UI hints served: " + string.Join("; ", served));
        var registered = server.Factory.Services.GetRequiredService<ActivityRegistry>().All
            .SelectMany(d => d.Inputs.Select(i => (d.TypeName, i.Name, i.UIHint))).Where(x => !UIHints.IsSupported(x.UIHint))
            .Select(x => $"{x.TypeName}.{x.Name}: {x.UIHint}").ToList();
        Assert.True(registered.Count == 0, "Unsupported UI hints registered: " + string.Join("; ", registered));
        Assert.True(descriptors.Count > 25, $"Only {descriptors.Count} descriptors were served");
    }

    [Fact]
    public async Task Should_PickAnEditorThatSuitsTheType_When_AnInputHasNoHint()
    {
        // Act
        var d = await DescriptorsWithIntentSetAsync(server.Admin, "typed" + Guid.NewGuid().ToString("N")[..8]);

        // Assert
        Assert.Equal(UIHints.SingleLine, Input(d, "Platform.RecognizeIntent", "MaxQuestions").Str("uiHint"));
        Assert.Equal(UIHints.MultiLine, Input(d, "Platform.SendReply", "Text").Str("uiHint"));
        Assert.Equal(UIHints.MultiText, Input(d, "Platform.SendReply", "QuickReplies").Str("uiHint"));
        Assert.Equal(UIHints.MultiText, Input(d, "Platform.SendMessage", "Targets").Str("uiHint"));
        Assert.Equal(UIHints.MultiLine, Input(d, "Platform.SendMessage", "Text").Str("uiHint"));
        Assert.Equal(UIHints.MultiText, Input(d, "Elsa.HttpEndpoint", "SupportedMethods").Str("uiHint"));
        Assert.Equal(UIHints.SingleLine, Input(d, "Elsa.Delay", "TimeSpan").Str("uiHint"));
        Assert.Equal(UIHints.Checkbox, Input(d, "Elsa.RunWorkflow", "WaitForCompletion").Str("uiHint"));
        Assert.Equal(UIHints.JsonEditor, Input(d, "Elsa.RunWorkflow", "Input").Str("uiHint"));
        Assert.Equal(UIHints.DropDown, Input(d, "Elsa.FlowJoin", "Mode").Str("uiHint"));
        // The switch's cases are a plain (not expression) input with the Studio's case editor.
        var cases = Input(d, "Elsa.FlowSwitch", "Cases");
        Assert.Equal(UIHints.FlowSwitchEditor, cases.Str("uiHint"));
        Assert.False(cases["isWrapped"]!.GetValue<bool>());
    }

    [Fact]
    public void Should_PickEditorsByType_When_TheDefaultIsAsked()
    {
        Assert.Equal(UIHints.SingleLine, ActivityRegistry.DefaultUIHint(typeof(int?)));
        Assert.Equal(UIHints.SingleLine, ActivityRegistry.DefaultUIHint(typeof(double)));
        Assert.Equal(UIHints.SingleLine, ActivityRegistry.DefaultUIHint(typeof(TimeSpan)));
        Assert.Equal(UIHints.Checkbox, ActivityRegistry.DefaultUIHint(typeof(bool?)));
        Assert.Equal(UIHints.DropDown, ActivityRegistry.DefaultUIHint(typeof(DayOfWeek)));
        Assert.Equal(UIHints.DropDown, ActivityRegistry.DefaultUIHint(typeof(string), ["a", "b"]));
        Assert.Equal(UIHints.MultiText, ActivityRegistry.DefaultUIHint(typeof(string[])));
        Assert.Equal(UIHints.MultiText, ActivityRegistry.DefaultUIHint(typeof(List<string>)));
        Assert.Equal(UIHints.JsonEditor, ActivityRegistry.DefaultUIHint(typeof(IDictionary<string, object?>)));
        Assert.Equal(UIHints.JsonEditor, ActivityRegistry.DefaultUIHint(typeof(Dictionary<string, string>)));
        Assert.Equal(UIHints.JsonEditor, ActivityRegistry.DefaultUIHint(typeof(List<int>)));
        Assert.Equal(UIHints.MultiLine, ActivityRegistry.DefaultUIHint(typeof(object)));
    }

    [Fact]
    public void Should_RefuseTheActivityWithTheSupportedNames_When_ItsUIHintIsUnknown()
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => ActivityRegistry.Describe(typeof(BadHintActivity)));

        // Assert
        Assert.Contains("\"multi-line\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unsupported UI hint", error.Message, StringComparison.Ordinal);
        Assert.Contains(UIHints.MultiLine, error.Message, StringComparison.Ordinal);
        Assert.Contains("UIHints", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An activity a pack author got wrong.</summary>
    [Activity("Tests", "Tests", "Has an input with an editor the Studio does not know.")]
    public sealed class BadHintActivity : Activity
    {
        /// <summary>The text.</summary>
        [Input(UIHint = "multi-line")]
        public Input<string> Text { get; set; } = new("");

        /// <inheritdoc />
        protected override ValueTask ExecuteAsync(ActivityExecutionContext context) => ValueTask.CompletedTask;
    }
}
