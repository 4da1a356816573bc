using BenchmarkDotNet.Running;
using Platform.Intents.Evaluation;

// "eval-intents …" runs the evaluation command without building the server; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "eval-intents") return await IntentEvaluation.RunAsync(args[1..], Console.Out);
BenchmarkSwitcher.FromAssembly(typeof(Platform.Bench.Intents.IntentBenchmarks).Assembly).Run(args);
return 0;
