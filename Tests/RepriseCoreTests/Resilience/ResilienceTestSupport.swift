import RepriseCore
import Synchronization

/// Uptime nanoseconds for `value` seconds (traces read in seconds).
func seconds(_ value: Double) -> UInt64 {
    UInt64((value * 1e9).rounded())
}

func milliseconds(_ value: UInt64) -> UInt64 {
    value * 1_000_000
}

/// Collects the transitions a `CircuitBreaker` reports, from any thread.
final class TransitionLog: Sendable {
    private let entries = Mutex<[CircuitTransition]>([])

    func append(_ transition: CircuitTransition) {
        entries.withLock { $0.append(transition) }
    }

    var all: [CircuitTransition] { entries.withLock { $0 } }
    var states: [CircuitState] { all.map(\.to) }
}

/// A deterministic jitter for simulations: a 64-bit LCG (Knuth MMIX constants) behind a lock.
func seededJitter(_ seed: UInt64) -> JitterSource {
    let state = Mutex(seed)
    return JitterSource { upper in
        let next = state.withLock { value -> UInt64 in
            value = value &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return value
        }
        return upper == .max ? next : (next >> 11) % (upper + 1)
    }
}
