namespace Platform.Activities.AI;

/// <summary>
/// The AI activities: <see cref="RecognizeIntent"/> (plus one <c>Platform.RecognizeIntent.{set}</c> type per intent set),
/// <see cref="ExtractEntities"/> and <see cref="AskModel"/>. The host registers <see cref="IIntentSetStore"/>,
/// <see cref="IntentEmbeddings"/>, <see cref="IntentSetModels"/> and <see cref="ChatModelClient"/>.
/// </summary>
public sealed class AiPack : IActivityPack
{
    /// <inheritdoc />
    public string Name => "AI";
}
