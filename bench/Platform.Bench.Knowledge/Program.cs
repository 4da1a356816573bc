using BenchmarkDotNet.Running;
using Platform.Bench.Knowledge;

// "recall [--limit N]" runs the quality and ingestion measurement; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "recall") return await RecallCommand.RunAsync(args[1..], Console.Out);
BenchmarkSwitcher.FromAssembly(typeof(SearchBenchmarks).Assembly).Run(args);
return 0;
