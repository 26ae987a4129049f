import NIOCore

/// TLS for one connection, either side: ciphertext `ByteBuffer`s in from the network become
/// plaintext `ByteBuffer`s for the next inbound handler; plaintext written by the handlers after
/// it becomes ciphertext for the network. OpenSSL reads and writes the ciphertext straight
/// from and into NIO buffers (see `TLSConnection` and `ByteBufferBIO`); this type makes no C
/// calls. `OpenSSLServerHandler` and `OpenSSLClientHandler` say what happens when the
/// handshake starts, ends or fails.
///
/// - Handshake: the client side sends its hello when the channel becomes active; from then on
///   it is driven by the peer's bytes. On completion the subclass reports it (a user inbound
///   event) and writes queued meanwhile are flushed. A handshake that does not finish within
///   `handshakeTimeout` closes the connection with `.handshakeTimedOut`.
/// - Back-pressure: plaintext is decrypted only from the ciphertext of one socket read, and
///   delivered at once (nothing is kept for later), so reading more is left to the downstream
///   `read()` calls, which pass through; during the handshake the handler asks for reads itself.
///   Flushed plaintext is encrypted only while the channel is writable, in chunks; the rest waits
///   for `channelWritabilityChanged`.
/// - Errors: any OpenSSL failure is fired as a `TLSConnectionError` (its error queue drained) and
///   the connection is closed after sending whatever alert OpenSSL queued.
/// - Close: a `close` from the pipeline encrypts what was already flushed, sends `close_notify`
///   and closes; a `close_notify` from the peer is answered and the channel closed.
///
/// Use on the channel's event loop only (like every NIO handler, it is not `Sendable`).
public class OpenSSLHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case active
        /// Our `close_notify` is queued or sent, or an error closed us; no more application data.
        case closed
    }

    private struct PendingWrite {
        var plaintext: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    /// Plaintext encrypted per ciphertext write: large enough to fill TLS records, small enough
    /// that a slow reader stops us early.
    private static let encryptionChunkSize = 64 * 1024
    private static let recordPlaintextSize = TLSConnection.recordPlaintextSize

    let connection: TLSConnection
    private let handshakeTimeout: TimeAmount?
    /// The client sends the first handshake bytes; the server waits for them.
    private let initiatesHandshake: Bool
    private var handshakeStarted = false
    private var state: State = .handshaking
    private var handshakeTimer: Scheduled<Void>?
    private var pendingWrites = CircularBuffer<PendingWrite>()
    /// The first `flushedWriteCount` entries of `pendingWrites` were flushed by the pipeline.
    private var flushedWriteCount = 0

    init(connection: TLSConnection, initiatesHandshake: Bool, handshakeTimeout: TimeAmount?) {
        self.connection = connection
        self.initiatesHandshake = initiatesHandshake
        self.handshakeTimeout = handshakeTimeout
    }

    // MARK: - Subclass hooks (on the event loop)

    /// The handshake finished; report it (the pending writes are flushed after).
    func handshakeCompleted(context: ChannelHandlerContext) {}

    /// The connection failed or closed before the handshake finished.
    func handshakeFailed(_ error: TLSConnectionError) {}

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        connection.allocator = context.channel.allocator
        if context.channel.isActive { beginHandshake(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        failPendingWrites(ChannelError.ioOnClosedChannel)
        if state == .handshaking {
            state = .closed
            handshakeFailed(TLSConnectionError(.closedDuringHandshake, openSSLErrors: []))
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        beginHandshake(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelHandshakeTimer()
        let wasHandshaking = state == .handshaking
        state = .closed
        failPendingWrites(ChannelError.ioOnClosedChannel)
        if wasHandshaking { handshakeFailed(TLSConnectionError(.closedDuringHandshake, openSSLErrors: [])) }
        context.fireChannelInactive()
    }

    private func beginHandshake(context: ChannelHandlerContext) {
        guard !handshakeStarted else { return }
        handshakeStarted = true
        startHandshakeTimer(context: context)
        if initiatesHandshake { advanceHandshake(context: context) }
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closed else { return }  // after close_notify or an error: ignore the rest
        connection.feed(unwrapInboundIn(data))
        if state == .handshaking { advanceHandshake(context: context) }
        if state == .active { decryptAvailable(context: context) }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // The handshake must progress even if nothing downstream asked to read yet.
        if state == .handshaking { context.read() }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && state == .active { encryptFlushedWrites(context: context, ignoringWritability: false) }
        context.fireChannelWritabilityChanged()
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch connection.handshake() {
        case .needsMoreCiphertext:
            writeCiphertext(context: context, promise: nil, flush: true)
        case .failed(let error):
            fail(context: context, error: error)
        case .complete:
            cancelHandshakeTimer()
            state = .active
            writeCiphertext(context: context, promise: nil, flush: true)
            handshakeCompleted(context: context)
            if state == .active && flushedWriteCount > 0 { encryptFlushedWrites(context: context, ignoringWritability: false) }
        }
    }

    private func decryptAvailable(context: ChannelHandlerContext) {
        reading: while state == .active {
            switch connection.read(allocator: context.channel.allocator) {
            case .plaintext(let plaintext):
                context.fireChannelRead(wrapInboundOut(plaintext))
            case .needsMoreCiphertext:
                break reading
            case .closedByPeer:
                closeAfterPeerCloseNotify(context: context)
                return
            case .failed(let error):
                fail(context: context, error: error)
                return
            }
        }
        // Reads can produce records too (TLS 1.3 session tickets, key updates, alerts).
        if state == .active { writeCiphertext(context: context, promise: nil, flush: true) }
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard state != .closed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pendingWrites.append(PendingWrite(plaintext: unwrapOutboundIn(data), promise: promise))
    }

    public func flush(context: ChannelHandlerContext) {
        flushedWriteCount = pendingWrites.count
        if state == .active { encryptFlushedWrites(context: context, ignoringWritability: false) }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode != .input, state != .closed else {
            context.close(mode: mode, promise: promise)
            return
        }
        if state == .active { encryptFlushedWrites(context: context, ignoringWritability: true) }
        let wasHandshaking = state == .handshaking
        state = .closed
        if wasHandshaking { handshakeFailed(TLSConnectionError(.closedDuringHandshake, openSSLErrors: [])) }
        cancelHandshakeTimer()
        failPendingWrites(ChannelError.ioOnClosedChannel)
        connection.shutdown()
        writeCiphertext(context: context, promise: nil, flush: true)
        context.close(mode: mode, promise: promise)
    }

    /// Encrypts flushed writes in chunks, handing each chunk's ciphertext to the channel, while
    /// the channel is writable (or everything, when closing).
    private func encryptFlushedWrites(context: ChannelHandlerContext, ignoringWritability: Bool) {
        // The promises of the writes in the current chunk: the first completes with the chunk's
        // ciphertext write, the others follow it (no array to allocate for the usual one).
        var chunkPromise: EventLoopPromise<Void>?
        var chunkBytes = 0
        while flushedWriteCount > 0 && state == .active && (ignoringWritability || context.channel.isWritable) {
            let (count, bytes) = flushedWritesFittingOneRecord()
            let error: TLSConnectionError?
            if count == 1 {
                error = connection.write(pendingWrites.first!.plaintext)
            } else {
                error = connection.write(joining: pendingWrites.prefix(count).lazy.map { $0.plaintext }, byteCount: bytes)
            }
            for _ in 0..<count {
                guard let promise = pendingWrites.removeFirst().promise else { continue }
                if let chunkPromise { chunkPromise.futureResult.cascade(to: promise) } else { chunkPromise = promise }
            }
            flushedWriteCount -= count
            if let error {
                chunkPromise?.fail(error)
                fail(context: context, error: error)
                return
            }
            chunkBytes += bytes
            if chunkBytes >= Self.encryptionChunkSize {
                writeCiphertext(context: context, promise: chunkPromise, flush: true)
                chunkPromise = nil
                chunkBytes = 0
            }
        }
        writeCiphertext(context: context, promise: chunkPromise, flush: true)
    }

    /// How many of the next flushed writes go into one `SSL_write` (at least one), and their
    /// bytes: small writes are joined while together they fit one TLS record. Each `SSL_write`
    /// makes at least one record (its header, nonce, tag and cipher set-up, and a decryption
    /// with its own read at the peer), so an HTTP message written as head, body and end in one
    /// flush goes out as one record instead of three. A write larger than a record goes alone.
    private func flushedWritesFittingOneRecord() -> (count: Int, bytes: Int) {
        var count = 0
        var bytes = 0
        for write in pendingWrites.prefix(flushedWriteCount) {
            let size = write.plaintext.readableBytes
            if count > 0 && bytes + size > Self.recordPlaintextSize { break }
            count += 1
            bytes += size
        }
        return (count, bytes)
    }

    /// Hands OpenSSL's pending ciphertext to the channel; `promise` completes with that write.
    private func writeCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        guard let ciphertext = connection.takeCiphertext() else {
            promise?.succeed()  // empty plaintext: nothing to send
            return
        }
        context.write(wrapOutboundOut(ciphertext), promise: promise)
        if flush { context.flush() }
    }

    // MARK: - Failure and closing

    private func fail(context: ChannelHandlerContext, error: TLSConnectionError) {
        guard state != .closed else { return }
        if state == .handshaking { handshakeFailed(error) }
        state = .closed
        cancelHandshakeTimer()
        failPendingWrites(error)
        writeCiphertext(context: context, promise: nil, flush: true)  // the alert, if any
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func closeAfterPeerCloseNotify(context: ChannelHandlerContext) {
        state = .closed
        failPendingWrites(ChannelError.outputClosed)
        connection.shutdown()
        writeCiphertext(context: context, promise: nil, flush: true)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: any Error) {
        flushedWriteCount = 0
        while let write = pendingWrites.popFirst() { write.promise?.fail(error) }
    }

    private func startHandshakeTimer(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, state == .handshaking, let handshakeTimeout else { return }
        handshakeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) {
            guard self.state == .handshaking else { return }
            self.fail(context: context, error: TLSConnectionError(.handshakeTimedOut, openSSLErrors: []))
        }
    }

    private func cancelHandshakeTimer() {
        handshakeTimer?.cancel()
        handshakeTimer = nil
    }
}

@available(*, unavailable)
extension OpenSSLHandler: Sendable {}
