using System.Buffers.Binary;
using System.Text;

namespace Platform.Intents.Onnx;

/// <summary>ONNX tensor element types (TensorProto.DataType).</summary>
public enum OnnxDataType
{
    /// <summary>32-bit float.</summary>
    Float = 1,
    /// <summary>32-bit integer.</summary>
    Int32 = 6,
    /// <summary>64-bit integer.</summary>
    Int64 = 7,
}

/// <summary>
/// A tiny writer for the few ONNX protobuf messages a simple graph needs (ModelProto, GraphProto, NodeProto,
/// TensorProto, ValueInfoProto). No protobuf package: the wire format is varints and length-prefixed fields.
/// </summary>
/// <remarks>Field numbers follow onnx.proto (IR version 8, default domain opset 13).</remarks>
public sealed class OnnxGraphBuilder
{
    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];

    /// <summary>Creates a graph.</summary>
    /// <param name="name">The graph name.</param>
    public OnnxGraphBuilder(string name) => Name = name;

    /// <summary>The graph name.</summary>
    public string Name { get; }

    /// <summary>Declares a graph input. A dimension is either a number or a symbolic name such as <c>batch</c>.</summary>
    public OnnxGraphBuilder Input(string name, OnnxDataType type, params object[] dims)
    {
        _inputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>Declares a graph output.</summary>
    public OnnxGraphBuilder Output(string name, OnnxDataType type, params object[] dims)
    {
        _outputs.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>Adds a float initializer (a constant tensor), row-major.</summary>
    public OnnxGraphBuilder Initializer(string name, long[] dims, ReadOnlySpan<float> data)
    {
        var raw = new byte[data.Length * 4];
        for (var i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
        }
        _initializers.Add(Tensor(name, OnnxDataType.Float, dims, raw));
        return this;
    }

    /// <summary>Adds an int64 initializer, row-major.</summary>
    public OnnxGraphBuilder Initializer(string name, long[] dims, ReadOnlySpan<long> data)
    {
        var raw = new byte[data.Length * 8];
        for (var i = 0; i < data.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), data[i]);
        }
        _initializers.Add(Tensor(name, OnnxDataType.Int64, dims, raw));
        return this;
    }

    /// <summary>Adds a node of the default domain.</summary>
    /// <param name="opType">The operator, for example <c>Gather</c>.</param>
    /// <param name="inputs">Input value names.</param>
    /// <param name="outputs">Output value names.</param>
    /// <param name="intAttributes">Integer attributes (for example <c>axis</c>, or <c>to</c> of Cast).</param>
    /// <param name="intsAttributes">Integer list attributes (for example <c>axes</c>).</param>
    public OnnxGraphBuilder Node(string opType, string[] inputs, string[] outputs,
        IReadOnlyDictionary<string, long>? intAttributes = null, IReadOnlyDictionary<string, long[]>? intsAttributes = null)
    {
        var w = new ProtoWriter();
        foreach (var i in inputs) w.String(1, i);
        foreach (var o in outputs) w.String(2, o);
        w.String(3, $"{opType}_{_nodes.Count}");
        w.String(4, opType);
        foreach (var (k, v) in intAttributes ?? new Dictionary<string, long>())
        {
            var a = new ProtoWriter();
            a.String(1, k);
            a.Varint(3, v);
            a.Varint(20, 2); // INT
            w.Message(5, a.ToArray());
        }
        foreach (var (k, v) in intsAttributes ?? new Dictionary<string, long[]>())
        {
            var a = new ProtoWriter();
            a.String(1, k);
            foreach (var x in v) a.Varint(8, x);
            a.Varint(20, 7); // INTS
            w.Message(5, a.ToArray());
        }
        _nodes.Add(w.ToArray());
        return this;
    }

    /// <summary>Serialises a ModelProto holding this graph.</summary>
    public byte[] ToModelBytes(string producer = "Platform.Intents", long opset = 13)
    {
        var g = new ProtoWriter();
        foreach (var n in _nodes) g.Message(1, n);
        g.String(2, Name);
        foreach (var t in _initializers) g.Message(5, t);
        foreach (var i in _inputs) g.Message(11, i);
        foreach (var o in _outputs) g.Message(12, o);

        var opsetId = new ProtoWriter();
        opsetId.String(1, "");
        opsetId.Varint(2, opset);

        var m = new ProtoWriter();
        m.Varint(1, 8); // ir_version
        m.String(2, producer);
        m.String(3, "1");
        m.Message(7, g.ToArray());
        m.Message(8, opsetId.ToArray());
        return m.ToArray();
    }

    /// <summary>Writes the model to a file.</summary>
    public void Save(string path) => File.WriteAllBytes(path, ToModelBytes());

    private static byte[] Tensor(string name, OnnxDataType type, long[] dims, byte[] raw)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Varint(1, d);
        t.Varint(2, (long)type);
        t.String(8, name);
        t.Bytes(9, raw);
        return t.ToArray();
    }

    private static byte[] ValueInfo(string name, OnnxDataType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims)
        {
            var dim = new ProtoWriter();
            switch (d)
            {
                case string s: dim.String(2, s); break;
                case int i: dim.Varint(1, i); break;
                case long l: dim.Varint(1, l); break;
                default: throw new ArgumentException($"A dimension is a number or a name, not {d?.GetType().Name}.");
            }
            shape.Message(1, dim.ToArray());
        }
        var tensorType = new ProtoWriter();
        tensorType.Varint(1, (long)type);
        tensorType.Message(2, shape.ToArray());
        var typeProto = new ProtoWriter();
        typeProto.Message(1, tensorType.ToArray());
        var vi = new ProtoWriter();
        vi.String(1, name);
        vi.Message(2, typeProto.ToArray());
        return vi.ToArray();
    }
}

/// <summary>Protobuf wire-format writer (varint and length-delimited fields only).</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public void Varint(int field, long value)
    {
        Tag(field, 0);
        RawVarint((ulong)value);
    }

    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public void Message(int field, byte[] message) => Bytes(field, message);

    public void Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        RawVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public byte[] ToArray() => _buffer.ToArray();

    private void Tag(int field, int wireType) => RawVarint((ulong)((field << 3) | wireType));

    private void RawVarint(ulong v)
    {
        while (v >= 0x80)
        {
            _buffer.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        _buffer.WriteByte((byte)v);
    }
}
