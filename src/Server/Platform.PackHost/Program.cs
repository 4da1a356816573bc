namespace Platform.PackHost;

/// <summary>
/// The pack host process. The server starts one per pack with isolation 'process' and talks to it over stdin/stdout
/// (<see cref="HostFrames"/>). Console output of the pack goes to stderr, which the server logs.
/// </summary>
internal static class PackHostProgram
{
    private static async Task<int> Main()
    {
        var output = Console.OpenStandardOutput();
        var input = Console.OpenStandardInput();
        Console.SetOut(Console.Error);
        await new PackHostRuntime(input, output).RunAsync().ConfigureAwait(false);
        return 0;
    }
}
