namespace Platform.Activities;

/// <summary>The untyped base of <see cref="Input{T}"/>.</summary>
public abstract class Input
{
    /// <summary>Creates an input from an expression.</summary>
    protected Input(Expression expression) => Expression = expression;

    /// <summary>The expression that yields the value.</summary>
    public Expression Expression { get; }

    /// <summary>The CLR type the value is converted to.</summary>
    public abstract Type ValueType { get; }
}

/// <summary>
/// A typed activity input. Its expression is evaluated by the engine before <c>ExecuteAsync</c> runs;
/// <see cref="Get"/> returns the evaluated, converted value.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class Input<T> : Input
{
    /// <summary>Creates an input from a literal value.</summary>
    public Input(T value) : base(Expression.Literal(value)) { }

    /// <summary>Creates an input from an expression.</summary>
    public Input(Expression expression) : base(expression) { }

    /// <inheritdoc />
    public override Type ValueType => typeof(T);

    /// <summary>Gets the evaluated value in the current execution.</summary>
    public T? Get(ActivityExecutionContext context) => context.Get(this);

    /// <summary>Implicit conversion from a literal.</summary>
    public static implicit operator Input<T>(T value) => new(value);
}

/// <summary>
/// A typed activity output. Setting it records the value in the journal and makes it available to later activities
/// (in JavaScript as <c>getOutput("activityId", "Name")</c>); when the designer binds it to a variable, the variable is set too.
/// </summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class Output<T>
{
    /// <summary>The name of the variable this output is bound to, if any.</summary>
    public string? VariableName { get; set; }

    /// <summary>Sets the output value.</summary>
    public void Set(ActivityExecutionContext context, T? value) => context.SetOutput(this, value);
}
