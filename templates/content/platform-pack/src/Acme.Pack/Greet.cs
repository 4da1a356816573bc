using Platform.Activities;

namespace Acme.Pack;

/// <summary>Greets someone; replace it with your own activity.</summary>
[Activity("Acme.Pack", "Acme.Pack", "Greets someone by name.")]
[FlowNode("Done", "Anonymous")]
public class Greet : Activity
{
    /// <summary>Who to greet.</summary>
    [Input(Description = "Who to greet.")]
    public Input<string> Who { get; set; } = new("");

    /// <summary>The greeting.</summary>
    [Output(Description = "The greeting.")]
    public Output<string> Greeting { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var who = Who.Get(context);
        Greeting.Set(context, string.IsNullOrWhiteSpace(who) ? "Hello!" : $"Hello, {who}!");
        context.Complete(string.IsNullOrWhiteSpace(who) ? "Anonymous" : "Done");
        return ValueTask.CompletedTask;
    }
}
