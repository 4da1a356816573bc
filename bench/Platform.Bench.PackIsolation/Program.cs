using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Platform.Bench.PackIsolation.PackIsolationBenchmarks).Assembly).Run(args);
