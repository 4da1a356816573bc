using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Platform.Benchmarks.EngineOverheadBenchmarks).Assembly).Run(args);
