using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Testing;
using Xunit;

namespace Acme.Weather.Tests;

public sealed class GetWeatherTests
{
    /// <summary>Answers like the Acme weather service: Oslo is known, every other city is 404.</summary>
    private sealed class FakeWeatherService : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            var known = request.RequestUri!.Query.Contains("city=Oslo", StringComparison.Ordinal);
            return Task.FromResult(known
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"city":"Oslo","condition":"sunny","celsius":3}""", Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task Should_Reply_With_The_Weather_When_The_City_Is_Known()
    {
        // Arrange
        var service = new FakeWeatherService();
        await using var host = new ActivityTestHost(s => s.AddSingleton(new HttpClient(service)));

        // Act
        var result = await host.RunAsync<GetWeather>(new Dictionary<string, object?> { ["City"] = "Oslo", ["ServiceUrl"] = "http://weather.test/" });

        // Assert
        Assert.Equal(["Done"], result.Outcomes);
        Assert.Equal("The weather in Oslo: sunny, 3 °C.", result.Output<string>("Reply"));
        Assert.Equal(3, result.Output<double>("Celsius"));
        Assert.Equal("http://weather.test/v1/current?city=Oslo", Assert.Single(service.Requests).ToString());
    }

    [Fact]
    public async Task Should_Take_Unknown_City_When_The_Service_Does_Not_Know_It()
    {
        // Arrange
        await using var host = new ActivityTestHost(s => s.AddSingleton(new HttpClient(new FakeWeatherService())));

        // Act
        var result = await host.RunAsync<GetWeather>(new Dictionary<string, object?> { ["City"] = "Atlantis", ["ServiceUrl"] = "http://weather.test/" });

        // Assert
        Assert.Equal(["Unknown city"], result.Outcomes);
        Assert.Equal("I do not know the weather in Atlantis.", result.Output<string>("Reply"));
    }
}
