import NIOCore
import RepriseCore

/// One `CacheKeyBuilder` per event loop: a builder owns a reusable hasher and scratch buffers,
/// so keys are computed without allocating them per request and without sharing across threads.
final class CacheKeyBuilders: Sendable {
    private let builders: [ObjectIdentifier: NIOLoopBoundBox<CacheKeyBuilder>]

    init(group: EventLoopGroup, config: CacheConfig) {
        var builders: [ObjectIdentifier: NIOLoopBoundBox<CacheKeyBuilder>] = [:]
        let secret = config.secret.isEmpty ? nil : Array(config.secret.utf8)
        for loop in group.makeIterator() {
            // The builder is created here and from now on used on `loop` only.
            builders[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                CacheKeyBuilder(secret: secret, ignoredTopLevelFields: config.ignoredFields),
                eventLoop: loop
            )
        }
        self.builders = builders
    }

    /// The builder of `loop`; call on that loop.
    func builder(on loop: EventLoop) -> CacheKeyBuilder {
        guard let bound = builders[ObjectIdentifier(loop)] else {
            preconditionFailure("no cache key builder for event loop \(loop): not one of the server's loops")
        }
        return bound.value
    }
}
