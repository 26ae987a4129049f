/// The rollback guard of one route: each request that reached the upstream is an event; the
/// answer is whether a variant must be turned off now.
///
/// Every variant after the first is compared with the first (stable) one over the window. A
/// variant trips when both have `min_requests`, its error rate is at least `error_ratio` times
/// the stable rate and `min_error_rate_increase` above it, and a two-proportion z-test puts
/// the difference `min_z_score` standard errors away from chance. A tripped variant stays
/// tripped (its requests no longer count) until `reset`.
///
/// States per variant: `watching` → `tripped` (on a request meeting the condition) →
/// `watching` (on `reset`, with its counts cleared).
public struct RollbackGuardStateMachine: Sendable {
    public struct Evidence: Sendable, Equatable, CustomStringConvertible {
        public var variantRequests: Int
        public var variantErrors: Int
        public var stableRequests: Int
        public var stableErrors: Int
        public var zScore: Double

        public var variantErrorRate: Double { Double(variantErrors) / Double(max(1, variantRequests)) }
        public var stableErrorRate: Double { Double(stableErrors) / Double(max(1, stableRequests)) }

        public var description: String {
            "error rate \(variantErrors)/\(variantRequests) against the stable variant's \(stableErrors)/\(stableRequests) (z \(Double(Int(zScore * 100)) / 100))"
        }
    }

    public enum State: Sendable, Equatable {
        case watching
        case tripped(Evidence)
    }

    public enum Action: Sendable, Equatable {
        case none
        /// Turn the variant off (0%), log and count it.
        case trip(variant: Int, Evidence)
    }

    public let config: RollbackGuardConfig
    public private(set) var states: [State]
    private var window: RollbackGuardWindow

    public init(config: RollbackGuardConfig, variantCount: Int) {
        self.config = config
        self.states = Array(repeating: .watching, count: variantCount)
        self.window = RollbackGuardWindow(windowNanoseconds: UInt64(max(1, config.window.nanoseconds)), variantCount: variantCount)
    }

    public func isTripped(variant: Int) -> Bool {
        if case .tripped = states[variant] { return true }
        return false
    }

    /// A request of `variant` ended (an answer from the upstream, or Reprise's own error for it).
    public mutating func requestEnded(variant: Int, isError: Bool, now: UInt64) -> Action {
        guard config.enabled, states.indices.contains(variant), !isTripped(variant: variant) else { return .none }
        window.record(variant: variant, isError: isError, now: now)
        guard variant > 0, let evidence = tripEvidence(variant: variant, now: now) else { return .none }
        states[variant] = .tripped(evidence)
        return .trip(variant: variant, evidence)
    }

    /// The variant was off before this machine existed (a reload kept an earlier trip).
    public mutating func markTripped(variant: Int) {
        guard states.indices.contains(variant), !isTripped(variant: variant) else { return }
        states[variant] = .tripped(Evidence(variantRequests: 0, variantErrors: 0, stableRequests: 0, stableErrors: 0, zScore: 0))
    }

    /// An operator reset the variant: watched again from an empty window.
    public mutating func reset(variant: Int) {
        guard states.indices.contains(variant) else { return }
        states[variant] = .watching
        window.clear(variant: variant)
    }

    private func tripEvidence(variant: Int, now: UInt64) -> Evidence? {
        let candidate = window.total(variant: variant, now: now)
        let stable = window.total(variant: 0, now: now)
        guard candidate.requests >= config.minRequests, stable.requests >= config.minRequests else { return nil }
        let evidence = Evidence(
            variantRequests: candidate.requests, variantErrors: candidate.errors, stableRequests: stable.requests, stableErrors: stable.errors,
            zScore: Self.zScore(candidate, stable))
        let rate = evidence.variantErrorRate
        let stableRate = evidence.stableErrorRate
        guard rate >= stableRate * config.errorRatio, rate - stableRate >= config.minErrorRateIncrease,
              evidence.zScore >= config.minZScore, candidate.errors > 0 else { return nil }
        return evidence
    }

    /// How many standard errors the variant's error rate is above the stable one's (pooled
    /// two-proportion z-test); infinite when neither varies but the variant is worse.
    static func zScore(_ candidate: RollbackGuardWindow.Count, _ stable: RollbackGuardWindow.Count) -> Double {
        let n1 = Double(candidate.requests), n0 = Double(stable.requests)
        let p1 = Double(candidate.errors) / n1, p0 = Double(stable.errors) / n0
        let pooled = Double(candidate.errors + stable.errors) / (n1 + n0)
        let standardError = (pooled * (1 - pooled) * (1 / n1 + 1 / n0)).squareRoot()
        guard standardError > 0 else { return p1 > p0 ? .infinity : 0 }
        return (p1 - p0) / standardError
    }
}
