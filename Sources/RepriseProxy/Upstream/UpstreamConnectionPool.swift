import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseTLS

/// Keep-alive HTTP/1.1 connections from one event loop to one upstream, `http://` or
/// `https://` (then each connection starts with an OpenSSL client handshake: see `connect`).
///
/// Why our own instead of AsyncHTTPClient: a miss through AHC cost ~300 µs of event-loop CPU
/// (perf: task, request bag and pool state machines, a Foundation URL parse, per-request
/// timers), against ~50 µs for a whole cache hit, and it brought a second TLS library
/// (BoringSSL) beside the OpenSSL that terminates client TLS. Here a request is one write of
/// its pre-encoded head and body and one flush on a pooled connection of the same loop; the answer is decoded
/// by NIO's HTTP decoder and handed on part by part with back-pressure.
///
/// Not thread-safe: used on its event loop only (`UpstreamClient` keeps one per loop).
final class UpstreamConnectionPool {
    let eventLoop: EventLoop
    private let host: String
    private let port: Int
    private let maxConnections: Int
    private let connectTimeout: TimeAmount
    private let readTimeout: TimeAmount
    /// Set for `https://` upstreams: every connection verifies the server as `host`.
    private let tls: TLSClientContext?
    static let idleTimeout = TimeAmount.seconds(60)

    private var idle: [UpstreamConnection] = []
    private var waiters = CircularBuffer<UpstreamCall>()
    /// Connections open or being opened.
    private var openCount = 0
    private var isShutDown = false
    /// Time-to-first-byte deadlines of the calls, served by one wake-up.
    private var firstByteDeadlines = FirstByteDeadlines()
    private var firstByteWakeUp = DeadlineWakeUp(maxAhead: UpstreamConnectionPool.idleTimeout)

    init(eventLoop: EventLoop, host: String, port: Int, maxConnections: Int,
         connectTimeout: TimeAmount, readTimeout: TimeAmount, tls: TLSClientContext?) {
        self.eventLoop = eventLoop
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.tls = tls
    }

    /// Sends `request` and reports its answer to `sink`. Call on `eventLoop`.
    func execute(_ request: UpstreamRequest, deadline: NIODeadline, sink: UpstreamResponseSink) -> UpstreamCall {
        let call = UpstreamCall(request: request, deadline: deadline, sink: sink, pool: self)
        if isShutDown {
            call.fail(.connectFailed("the proxy is shutting down"))
        } else if let connection = idle.popLast() {
            connection.start(call)
        } else if openCount < maxConnections {
            connect(for: call)
        } else {
            waiters.append(call)
        }
        return call
    }

    func removeWaiter(_ call: UpstreamCall) {
        if let index = waiters.firstIndex(where: { $0 === call }) {
            waiters.remove(at: index)
        }
    }

    /// Opens a connection for `call`. For `https://` the TLS handshake is part of connecting:
    /// the call starts only on a verified connection, and `connect_timeout` covers TCP and
    /// handshake together. A handshake failure fails the call with `.tlsFailed` (nothing of the
    /// request was written: the TLS handler holds writes until the handshake finished).
    private func connect(for call: UpstreamCall) {
        openCount += 1
        let readTimeout = self.readTimeout
        let connectDeadline = NIODeadline.now() + connectTimeout
        let tls = self.tls
        let host = self.host
        let sessionKey = "\(host):\(port)"
        // The bootstrap's group is this one loop, so the initializer runs here too.
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var handshake: EventLoopFuture<TLSClientHandshakeCompleted>?
                    if let tls {
                        let promise = channel.eventLoop.makePromise(of: TLSClientHandshakeCompleted.self)
                        handshake = promise.futureResult
                        try channel.pipeline.syncOperations.addHandler(OpenSSLClientHandler(
                            context: tls, serverName: host, sessionKey: sessionKey, handshakePromise: promise
                        ))
                    }
                    // Requests go out as bytes (`UpstreamRequestEncoder`): no request encoder, and
                    // the response decoder is told each request's method by the connection.
                    let decoder = UpstreamResponseDecoder()
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnection(
                        pool: pool.value, readTimeout: readTimeout, tlsHandshake: handshake, responseDecoder: decoder
                    ))
                }
            }
            .connect(host: host, port: port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) else {
                        channel.close(promise: nil)
                        connectionClosed()
                        call.fail(.connectFailed("connection set-up failed"))
                        return
                    }
                    if let handshake = connection.tlsHandshake {
                        awaitHandshake(handshake, on: channel, by: connectDeadline, then: connection, for: call)
                    } else {
                        connected(connection, for: call)
                    }
                case .failure(let error):
                    openCount -= 1
                    if case ChannelError.connectTimeout = error {
                        call.fail(.connectTimeout)
                    } else if let error = error as? TLSConnectionError {
                        call.fail(.tlsFailed(error, server: sessionKey))
                    } else {
                        call.fail(.connectFailed("\(error)"))
                    }
                    serveWaiters()
                }
            }
    }

    /// Waits for the TLS handshake of a new connection, at most until `deadline` (what is left
    /// of the connect timeout). On failure the TLS handler closes the channel, and the pool
    /// learns of it through `connectionClosed`.
    private func awaitHandshake(
        _ handshake: EventLoopFuture<TLSClientHandshakeCompleted>, on channel: Channel, by deadline: NIODeadline,
        then connection: UpstreamConnection, for call: UpstreamCall
    ) {
        var timedOut = false
        let timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            timedOut = true
            channel.close(promise: nil)
        }
        handshake.assumeIsolated().whenComplete { [self] result in
            timer.cancel()
            switch result {
            case .success:
                connected(connection, for: call)
            case .failure(let error):
                if timedOut {
                    call.fail(.connectTimeout)
                } else if let error = error as? TLSConnectionError {
                    call.fail(.tlsFailed(error, server: "\(host):\(port)"))
                } else {
                    call.fail(.connectFailed("\(error)"))
                }
            }
        }
    }

    /// A new connection is ready: it serves `call`, or, when the call ended meanwhile, the
    /// next waiter or the idle list.
    private func connected(_ connection: UpstreamConnection, for call: UpstreamCall) {
        if call.isOver {
            release(connection)
        } else {
            connection.start(call)
        }
    }

    /// A connection whose answer ended cleanly takes the next waiting call, or rests.
    func release(_ connection: UpstreamConnection) {
        if isShutDown {
            connection.close()
            return
        }
        while let next = waiters.popFirst() {
            if next.isOver { continue }
            connection.start(next)
            return
        }
        idle.append(connection)
        connection.restUntil(.now() + Self.idleTimeout)
    }

    /// A connection closed (by either side, at any time).
    func connectionClosed(_ connection: UpstreamConnection? = nil) {
        openCount -= 1
        if let connection, let index = idle.firstIndex(where: { $0 === connection }) {
            idle.remove(at: index)
        }
        serveWaiters()
    }

    private func serveWaiters() {
        while openCount < maxConnections, let next = waiters.popFirst() {
            if next.isOver { continue }
            connect(for: next)
        }
    }

    // MARK: Time to first byte

    func watchFirstByte(of call: UpstreamCall, until deadline: NIODeadline) {
        firstByteDeadlines.watch(call, until: deadline)
        armFirstByteWakeUp(by: deadline, now: .now())
    }

    func unwatchFirstByte(of call: UpstreamCall) {
        firstByteDeadlines.unwatch(call)
    }

    private func armFirstByteWakeUp(by due: NIODeadline, now: NIODeadline) {
        guard let target = firstByteWakeUp.target(by: due, now: now) else { return }
        firstByteWakeUp.schedule(at: target, on: eventLoop) { [weak self] in
            self?.firstByteWakeUpFired()
        }
    }

    /// Tells the calls whose deadline passed, then wakes up again by the next deadline (a
    /// wake-up earlier than a deadline, `maxAhead` away, only asks again).
    private func firstByteWakeUpFired() {
        firstByteWakeUp.fired()
        let now = NIODeadline.now()
        for call in firstByteDeadlines.takeDue(now: now) {
            call.firstByteDeadlinePassed()
        }
        if let next = firstByteDeadlines.earliest {
            armFirstByteWakeUp(by: next, now: .now())
        }
    }

    /// Closes idle connections and refuses new calls (calls in flight go on).
    func shutdown() {
        isShutDown = true
        let resting = idle
        idle.removeAll()
        for connection in resting { connection.close() }
        while let waiter = waiters.popFirst() { waiter.fail(.connectFailed("the proxy is shutting down")) }
    }
}
