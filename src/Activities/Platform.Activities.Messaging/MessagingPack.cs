namespace Platform.Activities.Messaging;

/// <summary>The messaging activities: receive, wait for, reply to and send chat, SMS and e-mail messages on configured channels.</summary>
public sealed class MessagingPack : IActivityPack
{
    /// <inheritdoc />
    public string Name => "Messaging";
}
