namespace Platform.Server.Security;

/// <summary>
/// Headers on every response the server sends (issue 16, L5): <c>X-Content-Type-Options: nosniff</c>,
/// <c>Referrer-Policy: same-origin</c>, and a Content-Security-Policy with <c>frame-ancestors 'self'</c>,
/// <c>object-src 'none'</c> and <c>base-uri 'self'</c> plus <c>X-Frame-Options: SAMEORIGIN</c> so no other site frames
/// the Studio, the dashboard or the API. A response that sets its own CSP keeps it: the chat page (<c>/chat</c>) does, with
/// the framing its channel allows (<c>allowedOrigins</c>). Over HTTPS, HSTS is added (<c>UseHsts</c>).
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The CSP of every response that sets none. Scripts are not restricted: the Studio's Blazor bundle needs eval and inline code.</summary>
    public const string DefaultContentSecurityPolicy = "frame-ancestors 'self'; object-src 'none'; base-uri 'self'";

    /// <summary>Adds the headers to every response (before it starts), unless the endpoint set them itself.</summary>
    public static IApplicationBuilder UsePlatformSecurityHeaders(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use((context, next) =>
        {
            var response = context.Response;
            response.OnStarting(() =>
            {
                var headers = response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (!headers.ContainsKey("Referrer-Policy")) headers["Referrer-Policy"] = "same-origin";
                if (!headers.ContainsKey("Content-Security-Policy"))
                {
                    headers.ContentSecurityPolicy = DefaultContentSecurityPolicy;
                    headers.XFrameOptions = "SAMEORIGIN";
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
