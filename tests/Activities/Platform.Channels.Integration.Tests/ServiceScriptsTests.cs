using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Platform.Testing;

namespace Platform.Channels.Integration.Tests;

/// <summary>The service scripts in tests/services that the fixtures start services with when no variable names one.</summary>
public sealed class ServiceScriptsTests
{
    [Fact]
    public async Task Should_StopTheBrokerAndDeleteItsFolder_When_TheProcessThatStartedItIsGone()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var directory = Path.Combine(Path.GetTempPath(), $"platform-mosquitto-owner-{Guid.NewGuid():N}");
        try
        {
            var output = await ServiceScripts.RunAsync("start-mosquitto.sh", [directory], TimeSpan.FromMinutes(15), TestContext.Current.CancellationToken,
                new Dictionary<string, string> { [ServiceScripts.OwnerVariable] = owner.Id.ToString(CultureInfo.InvariantCulture) });
            var port = int.Parse(ServiceScripts.ParseAssignments(output)["MQTT_PORT"], CultureInfo.InvariantCulture);
            Assert.True(await AcceptsAsync(port), "mosquitto should listen once the script returns");

            owner.Kill();
            await owner.WaitForExitAsync(TestContext.Current.CancellationToken); // reaped: no zombie left to answer kill -0
            var until = DateTime.UtcNow.AddSeconds(20);
            while ((await AcceptsAsync(port) || Directory.Exists(directory)) && DateTime.UtcNow < until)
                await Task.Delay(250, TestContext.Current.CancellationToken);

            Assert.False(await AcceptsAsync(port), "the broker should stop within seconds of its owner");
            Assert.False(Directory.Exists(directory), "its folder should be deleted");
        }
        finally
        {
            await ServiceScripts.RunAsync("stop-mosquitto.sh", [directory], TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task Should_AnswerQueriesAboutItsTargets_When_PrometheusIsStartedWithAConfigurationOfTheTestsOwn()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var prometheus = await PrometheusServer.StartAsync("""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: nothing-listens
                static_configs:
                  - targets: ["127.0.0.1:9"]
            """, ct);
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress };

        var until = DateTime.UtcNow.AddSeconds(20);
        string body;
        while (!(body = await http.GetStringAsync("api/v1/query?query=up", ct)).Contains("nothing-listens", StringComparison.Ordinal) && DateTime.UtcNow < until)
            await Task.Delay(250, ct);

        Assert.Contains("\"job\":\"nothing-listens\"", body, StringComparison.Ordinal);
        Assert.Contains("\"0\"]", body, StringComparison.Ordinal); // up = 0: the target does not answer
    }

    [Fact]
    public void Should_NameTheVariableAndTheFix_When_APortVariableIsNotAPort()
    {
        var variable = $"PLATFORM_TEST_PORT_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "localhost:1883");
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => ServiceScripts.PortFromEnvironment(variable));
            Assert.Contains(variable, error.Message, StringComparison.Ordinal);
            Assert.Contains("Unset it", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
        Assert.Null(ServiceScripts.PortFromEnvironment(variable));
    }

    [Fact]
    public void Should_ReadEveryAssignment_When_AScriptPrintsPlainQuotedAndExportedLines()
    {
        var values = ServiceScripts.ParseAssignments("MQTT_PORT=1883\nexport PG_CONN='Host=127.0.0.1;Port=5432'\nnoise\n");

        Assert.Equal("1883", values["MQTT_PORT"]);
        Assert.Equal("Host=127.0.0.1;Port=5432", values["PG_CONN"]);
        Assert.Equal(2, values.Count);
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
