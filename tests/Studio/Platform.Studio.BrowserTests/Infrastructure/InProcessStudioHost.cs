using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Studio.BrowserTests.Infrastructure;

/// <summary>
/// A Kestrel host on loopback with only the Studio (AddStudio + MapStudio), optionally forwarding <c>/elsa/*</c> to
/// another server (the reference fake backend). Tests the library on its own, without the platform server.
/// </summary>
internal sealed class InProcessStudioHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessStudioHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <param name="bundlePath">Platform:Studio:BundlePath; null for the default (studio/ in the test output).</param>
    /// <param name="apiTarget">Where to forward /elsa/* requests; null for none.</param>
    public static async Task<InProcessStudioHost> StartAsync(string? bundlePath = null, Uri? apiTarget = null)
    {
        var port = FreePort.Next();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseUrls(baseAddress.ToString());
        builder.Logging.ClearProviders();
        if (bundlePath is not null)
        {
            builder.Configuration["Platform:Studio:BundlePath"] = bundlePath;
        }

        builder.Services.AddStudio(builder.Configuration);
        var app = builder.Build();
        app.MapStudio();
        if (apiTarget is not null)
        {
            app.Map("/elsa/{**rest}", (HttpContext context) => ForwardAsync(context, ProxyClient, apiTarget));
        }

        await app.StartAsync();
        return new InProcessStudioHost(app, baseAddress);
    }

    private static readonly HttpClient ProxyClient = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Host", "Proxy-Connection", "TE", "Trailer",
    };

    private static async Task ForwardAsync(HttpContext context, HttpClient client, Uri target)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method),
            new Uri(target, request.PathBase + request.Path + request.QueryString));
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            message.Content = new StreamContent(request.Body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
