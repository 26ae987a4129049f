import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Process-wide serving state: readiness for `/readyz`, and the open client connections so a
/// graceful shutdown can ask each one to finish and close.
public final class ServerState: Sendable {
    private let ready = Atomic<Bool>(false)
    private let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init() {}

    public var isReady: Bool { ready.load(ordering: .relaxed) }
    public func setReady(_ value: Bool) { ready.store(value, ordering: .relaxed) }

    public var openConnectionCount: Int { connections.withLockedValue { $0.count } }

    /// Counts `channel` among the open connections unless `limit` of them are open already
    /// (then false: the caller refuses it, and it is not counted). The slot frees on close.
    func register(_ channel: Channel, limit: Int) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = connections.withLockedValue { connections in
            guard connections.count < limit else { return false }
            connections[id] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [self] _ in
            _ = connections.withLockedValue { $0.removeValue(forKey: id) }
        }
        return true
    }

    /// Asks every open connection to close once its current response is complete.
    func drainConnections() {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.triggerUserOutboundEvent(DrainConnectionEvent(), promise: nil)
        }
    }

    /// Closes every connection still open (the grace period is over).
    func closeAllConnections() {
        for channel in connections.withLockedValue({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }
}
