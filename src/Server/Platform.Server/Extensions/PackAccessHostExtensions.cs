using System.Data.Common;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities;
using Platform.Activities.Data;
using Platform.Mqtt;

namespace Platform.Server.Extensions;

/// <summary>The host's side of the pack SDK's outside access: data sources and MQTT for packs (the packs module limits them to what each pack declares).</summary>
public static class PackAccessHostExtensions
{
    /// <summary>Registers <see cref="IPackDataSources"/> (the server's data sources) and <see cref="IPackMqtt"/> (the server's MQTT connection).</summary>
    public static IServiceCollection AddPackAccess(this IServiceCollection services)
    {
        services.TryAddSingleton<IPackDataSources>(sp => new HostPackDataSources(sp.GetRequiredService<IDataSourceStore>(), sp.GetRequiredService<DataSourceProviders>()));
        services.TryAddSingleton<IPackMqtt>(sp => new HostPackMqtt(sp.GetRequiredService<IMqttConnection>()));
        return services;
    }

    private sealed class HostPackDataSources(IDataSourceStore store, DataSourceProviders providers) : IPackDataSources
    {
        public async ValueTask<DbConnection> OpenAsync(string name, CancellationToken cancellationToken = default)
        {
            var source = await store.FindAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new ActivityFaultException(FaultCodes.Configuration, $"The data source '{name}' does not exist. Create it under /api/data-sources.", nonRetryable: true);
            return await providers.Get(source.Provider).OpenAsync(source.ConnectionString, !source.Writable, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class HostPackMqtt(IMqttConnection mqtt) : IPackMqtt
    {
        public Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool retain = false, CancellationToken cancellationToken = default) =>
            mqtt.PublishAsync(topic, payload, MqttQos.AtLeastOnce, retain, cancellationToken);

        public Task<IAsyncDisposable> SubscribeAsync(string filter, Func<string, ReadOnlyMemory<byte>, CancellationToken, Task> handler, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(handler);
            return mqtt.SubscribeAsync(filter, (m, ct) => handler(m.Topic, m.Payload, ct), MqttQos.AtLeastOnce, cancellationToken);
        }
    }
}
