using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Platform.Activities;

namespace Acme.Weather;

/// <summary>
/// Reads the current weather of a city from the Acme weather service (<c>GET {ServiceUrl}/v1/current?city=…</c>) and words
/// it as a reply. The HttpClient comes from the context, so the server lets it reach only the hosts in pack.json.
/// </summary>
[Activity("Acme.Weather", "Weather", "Reads the current weather of a city and words it as a reply.", DisplayName = "Get Weather")]
[FlowNode("Done", "Unknown city")]
public class GetWeather : Activity, IValidatesConfiguration
{
    /// <summary>The city.</summary>
    [Input(Description = "The city, e.g. Oslo.")]
    public Input<string> City { get; set; } = new("");

    /// <summary>The weather service.</summary>
    [Input(Description = "The weather service's base URL. Its host must be listed in pack.json's permissions.network.")]
    public Input<string> ServiceUrl { get; set; } = new("https://api.weather.example/");

    /// <summary>The reply text.</summary>
    [Output(Description = "The weather as a sentence, e.g. 'The weather in Oslo: sunny, 3 °C.'.")]
    public Output<string> Reply { get; set; } = new();

    /// <summary>The temperature.</summary>
    [Output(Description = "The temperature in °C.")]
    public Output<double> Celsius { get; set; } = new();

    /// <summary>Save-time check: a literal service URL must be an absolute http(s) URL.</summary>
    public IEnumerable<string> ValidateConfiguration(ActivityValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.TryGetLiteral(ServiceUrl, out var url) && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            yield return $"Get Weather's Service URL '{url}' is not an http(s) URL. Give the service's base URL, e.g. https://api.weather.example/.";
    }

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var city = (City.Get(context) ?? "").Trim();
        var baseUrl = new Uri((ServiceUrl.Get(context) ?? "").TrimEnd('/') + "/");
        var http = context.GetRequiredService<HttpClient>();
        using var response = await http.GetAsync(new Uri(baseUrl, $"v1/current?city={Uri.EscapeDataString(city)}"), context.CancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            Reply.Set(context, $"I do not know the weather in {city}.");
            context.Complete("Unknown city");
            return;
        }
        if (!response.IsSuccessStatusCode)
            throw new ActivityFaultException(FaultCodes.Http, $"The weather service answered {(int)response.StatusCode}. Check the Service URL or try again later.");
        var current = await response.Content.ReadFromJsonAsync<Current>(context.CancellationToken)
            ?? throw new ActivityFaultException(FaultCodes.Http, "The weather service answered with an empty body.");
        Celsius.Set(context, current.Celsius);
        Reply.Set(context, string.Format(CultureInfo.InvariantCulture, Weather.Reply.Format, current.City ?? city, current.Condition, current.Celsius));
        context.Complete("Done");
    }

    private sealed record Current(string? City, string? Condition, double Celsius);
}
