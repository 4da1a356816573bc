using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Server.Security;

namespace Platform.Server.Tests;

/// <summary>The lockout's counting in time: the window, the cooling period, addresses (issue 16, part 4).</summary>
public sealed class KeyLockoutTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (KeyLockout Lockout, ManualClock Clock) Create()
    {
        var clock = new ManualClock();
        var options = new KeyLockoutOptions { MaxFailures = 3, Window = TimeSpan.FromMinutes(5), Duration = TimeSpan.FromMinutes(15) };
        return (new KeyLockout(options, clock, NullLogger<KeyLockout>.Instance), clock);
    }

    [Fact]
    public void Should_Lock_For_The_Duration_When_The_Failures_Fall_Within_The_Window()
    {
        // Arrange
        var (lockout, clock) = Create();
        var ip = IPAddress.Parse("192.0.2.1");

        // Act
        Assert.False(lockout.RecordFailure(ip));
        Assert.False(lockout.RecordFailure(ip));
        var locked = lockout.RecordFailure(ip);

        // Assert: locked for 15 minutes, also as an IPv4-mapped IPv6 address; another address is not.
        Assert.True(locked);
        Assert.Equal(TimeSpan.FromMinutes(15), lockout.LockedFor(ip));
        Assert.NotNull(lockout.LockedFor(ip.MapToIPv6()));
        Assert.Null(lockout.LockedFor(IPAddress.Parse("192.0.2.2")));
        clock.Now += TimeSpan.FromMinutes(15);
        Assert.Null(lockout.LockedFor(ip));
    }

    [Fact]
    public void Should_Not_Lock_When_The_Failures_Are_Spread_Over_More_Than_The_Window_Or_Have_No_Address()
    {
        // Arrange
        var (lockout, clock) = Create();
        var ip = IPAddress.Parse("2001:db8::1");

        // Act
        lockout.RecordFailure(ip);
        lockout.RecordFailure(ip);
        clock.Now += TimeSpan.FromMinutes(6); // the window starts again
        lockout.RecordFailure(ip);
        for (var i = 0; i < 10; i++) lockout.RecordFailure(null);

        // Assert
        Assert.Null(lockout.LockedFor(ip));
        Assert.Null(lockout.LockedFor(null));
    }

    [Theory]
    [InlineData("MaxFailures", "0")]
    [InlineData("Window", "soon")]
    [InlineData("Enabled", "maybe")]
    public void Should_Say_Which_Setting_Is_Wrong_When_The_Lockout_Is_Misconfigured(string key, string value)
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{KeyLockoutOptions.SectionName}:{key}"] = value }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => KeyLockoutOptions.Read(configuration));

        Assert.Contains($"{KeyLockoutOptions.SectionName}:{key}", error.Message);
    }
}
