import NIOCore
import RepriseCore

/// One `CacheKeyBuilder` per event loop: a builder owns a reusable hasher and scratch buffers,
/// so keys are computed without allocating them per request and without sharing across threads.
final class CacheKeyBuilders: Sendable {
    private let builders: [ObjectIdentifier: NIOLoopBoundBox<CacheKeyBuilder>]

    /// - Parameter sealer: with encryption at rest and no `cache.secret`, keys are HMAC-ed with
    ///   the sealer's derived secret, so Redis holds no digest one could confirm a guess against.
    init(group: EventLoopGroup, config: CacheConfig, sealer: EntrySealer? = nil) {
        var builders: [ObjectIdentifier: NIOLoopBoundBox<CacheKeyBuilder>] = [:]
        let secret = config.secret.isEmpty ? sealer?.digestSecret : Array(config.secret.utf8)
        for loop in group.makeIterator() {
            // The builder is created here and from now on used on `loop` only.
            builders[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                CacheKeyBuilder(secret: secret, ignoredTopLevelFields: config.ignoredFields,
                                memoSlots: Self.memoSlots, memoMaxBodyBytes: Self.memoMaxBodyBytes),
                eventLoop: loop
            )
        }
        self.builders = builders
    }

    /// Keys remembered per event loop by their exact request bytes (`CacheKeyMemo`): at most
    /// 64 × 16 KiB of bodies per loop.
    static let memoSlots = 64
    static let memoMaxBodyBytes = 16 * 1024

    /// The builder of `loop`; call on that loop.
    func builder(on loop: EventLoop) -> CacheKeyBuilder {
        guard let bound = builders[ObjectIdentifier(loop)] else {
            preconditionFailure("no cache key builder for event loop \(loop): not one of the server's loops")
        }
        return bound.value
    }
}
