using System.Collections.Concurrent;
using Microsoft.Playwright;
using Platform.Testing;

namespace Platform.Studio.BrowserTests.Infrastructure;

/// <summary>
/// Headless Debian Chromium (never a downloaded browser) driven by Playwright, with a fresh profile, the page's
/// console collected, and every request to a host other than the site recorded.
/// </summary>
internal sealed class StudioBrowser : IAsyncDisposable
{
    /// <summary>Generous: the Studio is a Blazor WebAssembly app that boots for several seconds on every page load.</summary>
    public const float DefaultTimeoutMs = 90_000;

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _userDataDirectory;
    private readonly ConcurrentQueue<string> _console = new();
    private readonly ConcurrentQueue<string> _outsideRequests = new();

    private StudioBrowser(IPlaywright playwright, IBrowserContext context, IPage page, string userDataDirectory)
    {
        _playwright = playwright;
        Context = context;
        Page = page;
        _userDataDirectory = userDataDirectory;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Console messages, page errors and failed requests, in order.</summary>
    public IReadOnlyCollection<string> ConsoleLog => _console;

    /// <summary>Requests that went to any origin other than the site under test.</summary>
    public IReadOnlyCollection<string> OutsideRequests => _outsideRequests;

    public static string ChromiumPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
            return string.IsNullOrWhiteSpace(configured) ? DebianChromium.DefaultPath : configured;
        }
    }

    public static async Task<StudioBrowser> LaunchAsync(Uri site)
    {
        if (ChromiumPath == DebianChromium.DefaultPath && !File.Exists(ChromiumPath))
        {
            // Debian's chromium, installed on first use (apt-get, as root) when missing; a clear error otherwise.
            await Task.Run(DebianChromium.EnsureInstalled);
        }

        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"{ChromiumPath} is missing. Install Debian's Chromium with 'apt-get update && apt-get install -y chromium' " +
                "(browser downloads do not work here; never run 'playwright install'), or set CHROMIUM_PATH.");
        }

        var userData = TestPaths.NewTempDirectory("studio-chromium");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(userData, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = ChromiumArgs,
                ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
                Timeout = 60_000,
            });
            context.SetDefaultTimeout(DefaultTimeoutMs);
            context.SetDefaultNavigationTimeout(DefaultTimeoutMs);
            var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            var browser = new StudioBrowser(playwright, context, page, userData);
            browser.Observe(site);
            return browser;
        }
        catch
        {
            playwright.Dispose();
            TestPaths.TryDelete(userData);
            throw;
        }
    }

    private void Observe(Uri site)
    {
        var origin = site.GetLeftPart(UriPartial.Authority);
        Page.Console += (_, message) => _console.Enqueue($"{Stamp()} [{message.Type}] {message.Text}");
        Page.PageError += (_, error) => _console.Enqueue($"{Stamp()} [pageerror] {error}");
        Page.RequestFailed += (_, request) => _console.Enqueue($"{Stamp()} [requestfailed] {request.Method} {request.Url} {request.Failure}");
        Page.FrameNavigated += (_, frame) =>
        {
            if (frame == Page.MainFrame)
            {
                _console.Enqueue($"{Stamp()} [navigated] {frame.Url}");
            }
        };
        Context.Request += (_, request) =>
        {
            var url = request.Url;
            if ((url.StartsWith("http:", StringComparison.Ordinal) || url.StartsWith("https:", StringComparison.Ordinal) ||
                 url.StartsWith("ws", StringComparison.Ordinal)) && !url.StartsWith(origin, StringComparison.Ordinal))
            {
                _outsideRequests.Enqueue(url);
            }
        };
    }

    private static string Stamp() => DateTime.UtcNow.ToString("HH:mm:ss.fff");

    /// <summary>Screenshot, page HTML and console log into <paramref name="directory"/>; never throws.</summary>
    public async Task SaveArtifactsAsync(string directory)
    {
        try
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, "screenshot.png"), FullPage = true, Timeout = 15_000 });
        }
        catch (Exception e)
        {
            _console.Enqueue($"(screenshot failed: {e.Message})");
        }

        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "page.html"), await Page.ContentAsync());
        }
        catch (Exception e)
        {
            _console.Enqueue($"(page HTML failed: {e.Message})");
        }

        await File.WriteAllLinesAsync(Path.Combine(directory, "console.log"),
            [$"url: {SafeUrl()}", .. _console, "", "requests to other hosts:", .. _outsideRequests]);
    }

    private string SafeUrl()
    {
        try
        {
            return Page.Url;
        }
        catch (PlaywrightException)
        {
            return "(unknown)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Context.CloseAsync();
        }
        catch (PlaywrightException)
        {
            // The browser is already gone.
        }

        _playwright.Dispose();
        TestPaths.TryDelete(_userDataDirectory);
    }
}
