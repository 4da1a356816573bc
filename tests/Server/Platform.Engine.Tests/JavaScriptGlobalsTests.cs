using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Xunit;

namespace Platform.Engine.Tests;

/// <summary>Scripts get only the globals their text names; scripts that can reach globals without naming them get all.</summary>
public class JavaScriptGlobalsTests
{
    [Theory]
    [InlineData("getInput('q') + 1", "42")]
    [InlineData("input.q + 1", "42")]
    [InlineData("eval('get' + 'Input')('q') + 1", "42")]
    [InlineData("globalThis['get' + 'Input']('q') + 1", "42")]
    [InlineData("String(typeof variables)", "object")]
    [InlineData("String(variables.n)", "7")]
    [InlineData("setVariable('n', 8); String(getVariable('n'))", "7")] // getVariable reads the run's variables, set after the script
    public async Task Should_See_The_Globals_A_Script_Uses_When_It_Names_Or_Reaches_Them(string script, string expected)
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder().Variable("n", "Int32", 7)
            .Activity("say", "Elsa.WriteLine", new { Text = Expr.Js(script) });

        var run = await engine.RunAsync(flow, new Dictionary<string, object?> { ["q"] = 41 });

        Assert.Equal(WorkflowSubStatus.Finished, run.SubStatus);
        var text = (await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId, ActivityId = "say" }, new PageArgs()))
            .Items.Single().ActivityState["text"]?.ToString();
        Assert.Equal(expected, text);
    }

    [Fact]
    public async Task Should_Keep_Variable_Written_By_Script_When_It_Uses_SetVariable()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder().Variable("n", "Int32", 1)
            .Activity("set", "Elsa.WriteLine", new { Text = Expr.Js("setVariable('n', 5); 'x'") })
            .Activity("show", "Elsa.WriteLine", new { Text = Expr.Js("String(variables.n)") })
            .Connect("set", "show");

        var run = await engine.RunAsync(flow);

        Assert.Equal(5L, Convert.ToInt64(run.Instance.State.Variables["n"], System.Globalization.CultureInfo.InvariantCulture));
    }
}
