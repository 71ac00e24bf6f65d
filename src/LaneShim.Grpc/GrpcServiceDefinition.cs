// GrpcServiceDefinition.cs - the table of unary methods a server answers, each with its parser and handler.
using Google.Protobuf;

namespace LaneShim.Grpc;

/// <summary>A unary handler bound to its wire types; built by <see cref="GrpcServiceDefinition.AddUnary{TRequest, TResponse}"/>.</summary>
public sealed class UnaryMethod
{
    internal UnaryMethod(string path, Func<ReadOnlyMemory<byte>, ServerCallContext, Task<IMessage>> invoke)
    {
        Path = path;
        Invoke = invoke;
    }

    /// <summary>The full method path.</summary>
    public string Path { get; }

    /// <summary>Parses the request message (throws <see cref="InvalidProtocolBufferException"/> when malformed) and runs the handler.</summary>
    public Func<ReadOnlyMemory<byte>, ServerCallContext, Task<IMessage>> Invoke { get; }
}

/// <summary>The unary methods a server exposes, keyed by full method path.</summary>
public sealed class GrpcServiceDefinition
{
    private readonly Dictionary<string, UnaryMethod> _methods = new(StringComparer.Ordinal);

    /// <summary>Registers a unary method.</summary>
    public GrpcServiceDefinition AddUnary<TRequest, TResponse>(string path, MessageParser<TRequest> parser, Func<TRequest, ServerCallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        _methods[path] = new UnaryMethod(path, async (payload, context) =>
        {
            TRequest request = parser.ParseFrom(payload.Span);
            return await handler(request, context).ConfigureAwait(false);
        });
        return this;
    }

    /// <summary>Finds the method for a :path, or null (the server answers UNIMPLEMENTED).</summary>
    public UnaryMethod? Find(string path) => _methods.TryGetValue(path, out UnaryMethod? m) ? m : null;

    /// <summary>All registered paths.</summary>
    public IEnumerable<string> Paths => _methods.Keys;
}
