using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>deploy/: the Kubernetes manifests render and probe real routes; the alert rules and Prometheus config pass promtool.</summary>
public sealed partial class DeploymentTests(KestrelServerFixture server) : IClassFixture<KestrelServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestPaths.RepoRoot };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(2), Ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary><c>kubectl kustomize</c> of a folder; without kubectl (Debian has no package for it), the base's files as they are.</summary>
    private static async Task<string> RenderAsync(string folder)
    {
        if (PrometheusFixture.Find("kubectl") is { } kubectl)
        {
            var (code, output) = await RunAsync(kubectl, "kustomize", folder);
            Assert.True(code == 0, $"kubectl kustomize {folder} failed:\n{output}");
            return output;
        }
        TestContext.Current.SendDiagnosticMessage("kubectl is not installed: checking the manifests' files without rendering them.");
        var files = Directory.GetFiles(TestPaths.InRepo(folder), "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(TestPaths.InRepo("deploy", "k8s", "base"), "*.yaml"))
            .Where(f => !f.EndsWith("kustomization.yaml", StringComparison.Ordinal)).Distinct();
        return string.Join("\n---\n", files.Select(File.ReadAllText));
    }

    [GeneratedRegex(@"^(\s*)(livenessProbe|readinessProbe|startupProbe):\s*$")]
    private static partial Regex ProbeRegex();

    /// <summary>Each probe and its <c>httpGet.path</c> (the probe's block is the lines indented deeper than its key).</summary>
    private static List<(string Probe, string Path)> Probes(string yaml)
    {
        var lines = yaml.Split('\n');
        var probes = new List<(string, string)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var m = ProbeRegex().Match(lines[i]);
            if (!m.Success) continue;
            var indent = m.Groups[1].Value.Length;
            for (var j = i + 1; j < lines.Length && lines[j].Length - lines[j].TrimStart().Length > indent; j++)
                if (lines[j].TrimStart().StartsWith("path: ", StringComparison.Ordinal)) probes.Add((m.Groups[2].Value, lines[j].Trim()["path: ".Length..]));
        }
        return probes;
    }

    [Fact]
    public async Task Should_Render_All_Objects_With_Probes_On_Real_Routes_When_Kustomize_Builds_Deploy_K8s()
    {
        // Arrange
        await server.Factory.Services.GetRequiredService<Platform.Engine.Runtime.StartupWarmUpService>().Completion.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        using var anonymous = server.Client(null);

        // Act
        var rendered = await RenderAsync("deploy/k8s");
        var overlay = await RenderAsync("deploy/k8s/overlays/postgres-statefulset");

        // Assert
        foreach (var kind in new[] { "Deployment", "Service", "Ingress", "ConfigMap", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler" })
            Assert.Contains($"kind: {kind}\n", rendered);
        Assert.Contains("tls:", rendered);
        Assert.Contains("resources:", rendered);
        Assert.Contains("kind: StatefulSet\n", overlay);
        var probes = Probes(rendered);
        Assert.Equal(["livenessProbe", "readinessProbe", "startupProbe"], probes.Select(p => p.Probe).Order());
        foreach (var (probe, path) in probes)
        {
            using var response = await anonymous.GetAsync(path, Ct);
            Assert.True(response.IsSuccessStatusCode, $"The {probe} path {path} answers {(int)response.StatusCode}.");
        }
        Assert.Equal("/healthz", probes.Single(p => p.Probe == "livenessProbe").Path);
        Assert.Equal("/readyz", probes.Single(p => p.Probe == "readinessProbe").Path);
    }

    [Fact]
    public async Task Should_Pass_Promtool_When_The_Alert_Rules_And_Prometheus_Config_Are_Checked()
    {
        // Arrange
        await PrometheusFixture.EnsureInstalledAsync(Ct); // promtool comes with the prometheus package
        var promtool = PrometheusFixture.Find("promtool") ?? throw new InvalidOperationException("promtool is missing although prometheus is installed.");

        // Act
        var rules = await RunAsync(promtool, "check", "rules", "deploy/prometheus/alerts.yml");
        var config = await RunAsync(promtool, "check", "config", "deploy/prometheus/prometheus.yml");

        // Assert
        Assert.True(rules.ExitCode == 0, rules.Output);
        Assert.Contains("4 rules found", rules.Output);
        Assert.True(config.ExitCode == 0, config.Output);
        var text = await File.ReadAllTextAsync(TestPaths.InRepo("deploy", "prometheus", "alerts.yml"), Ct);
        foreach (var alert in new[] { "PlatformMessageLatencyP99High", "PlatformDeliverySuccessLow", "PlatformDeadLettersGrowing", "PlatformCpuHigh" })
            Assert.Contains($"alert: {alert}", text);
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(TestPaths.InRepo("deploy", "grafana", "dashboards", "platform.json"), Ct))!;
        Assert.NotEmpty(dashboard["panels"]!.AsArray());
    }
}
