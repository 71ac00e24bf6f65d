// TlsConnectionMiddleware.cs - mutual TLS for a Kestrel listener without Kestrel's DI-bound HTTPS middleware: SslStream per connection.
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;

namespace LaneShim.Broker.Hosting;

/// <summary>
/// Runs the TLS handshake on each accepted connection and hands Kestrel the decrypted pipe. A client that presents no
/// certificate, or one that does not chain to the client CA, fails the handshake and the connection is closed: no
/// HTTP/2 frame, and so no call, ever reaches the broker. The verified certificate is offered to requests as
/// <see cref="ITlsConnectionFeature"/> (and ALPN's choice as <see cref="ITlsApplicationProtocolFeature"/>). (Kestrel's own UseHttps needs its service container, which this bare host does not build.)
/// </summary>
internal static class TlsConnectionMiddleware
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The middleware for <see cref="Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions"/>.Use.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Create(TlsListenerOptions tls) => next => async connection =>
    {
        IDuplexPipe original = connection.Transport;
        var ssl = new SslStream(new DuplexPipeStream(original), leaveInnerStreamOpen: true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
            timeout.CancelAfter(HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(tls.ToSslOptions(), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException or OperationCanceledException)
        {
            // Refused or abandoned handshake: nothing was served; close the connection.
            await ssl.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var tlsFeature = new TlsFeature(ssl.RemoteCertificate as X509Certificate2, ssl.NegotiatedApplicationProtocol.Protocol);
        connection.Features.Set<ITlsConnectionFeature>(tlsFeature);
        // Kestrel serves HTTP/2 over TLS only when ALPN chose h2, and looks for the choice here.
        connection.Features.Set<ITlsApplicationProtocolFeature>(tlsFeature);
        connection.Transport = new Pipe(ssl);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            connection.Transport = original;
            await ssl.DisposeAsync().ConfigureAwait(false);
        }
    };

    private sealed class Pipe(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    private sealed class TlsFeature(X509Certificate2? certificate, ReadOnlyMemory<byte> protocol) : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public X509Certificate2? ClientCertificate { get; set; } = certificate;

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = protocol;

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);
    }

    // SslStream needs a Stream; Kestrel gives a pipe.
    private sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
    {
        private readonly Stream _input = pipe.Input.AsStream(leaveOpen: true);
        private readonly Stream _output = pipe.Output.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => _output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
