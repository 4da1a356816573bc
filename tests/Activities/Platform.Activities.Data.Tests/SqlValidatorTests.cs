using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using static Platform.Activities.Data.Tests.DataHost;

namespace Platform.Activities.Data.Tests;

/// <summary>The save-time check that SQL never interpolates expressions.</summary>
public sealed class SqlValidatorTests
{
    private static JsonObject QueryActivity(JsonObject sql) => new()
    {
        ["id"] = "q1", ["type"] = "Platform.QueryDatabase", ["version"] = 1, ["name"] = "Orders query",
        ["dataSource"] = Literal("shop"), ["sql"] = sql,
    };

    [Theory]
    [InlineData("JavaScript", "`SELECT * FROM orders WHERE customer = '${input.text}'`", "JavaScript expression")]
    [InlineData("Liquid", "SELECT * FROM orders WHERE customer = '{{ Input.text }}'", "Liquid expression")]
    [InlineData("Literal", "SELECT * FROM orders WHERE customer = '{{ Input.text }}'", "template placeholder")]
    [InlineData("Literal", "SELECT * FROM orders WHERE customer = '${customer}'", "template placeholder")]
    public async Task Should_RejectSave_When_SqlInterpolates(string syntax, string sql, string expected)
    {
        await using var host = new DataHost();
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();
        var e = await Assert.ThrowsAsync<WorkflowValidationException>(() => definitions.SaveAsync(Model(QueryActivity(Expr(syntax, sql))), publish: false));
        var error = Assert.Single(e.Errors);
        Assert.Equal("q1", error.ActivityId);
        Assert.Contains(expected, error.Message);
        Assert.Contains("Parameters", error.Message);
    }

    [Fact]
    public async Task Should_AcceptSave_When_SqlIsLiteralWithParameters()
    {
        await using var host = new DataHost();
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();
        var saved = await definitions.SaveAsync(Model(QueryActivity(Literal("SELECT * FROM orders WHERE customer = @customer"))), publish: false);
        Assert.NotNull(saved.Definition);
    }
}
