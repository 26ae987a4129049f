import Foundation

/// The rollback guard of one route: each request that reached the upstream is an event; the
/// answer is whether a variant must be turned off now.
///
/// Every variant after the first is compared with the first (stable) one over the window. A
/// variant trips when both have `min_requests` and either its error rate is at least
/// `error_ratio` times the stable rate, `min_error_rate_increase` above it and too unlikely by
/// chance (`min_z_score`), or (with `latency_ratio` set) its p95 time to first byte is at
/// least `latency_ratio` times the stable one's and `min_latency_increase` above it. A tripped
/// variant stays tripped (its requests no longer count) until `reset`.
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
        /// Set when latency tripped it: the p95 times to first byte, variant and stable.
        public var p95Nanoseconds: (variant: UInt64, stable: UInt64)?

        public static func == (lhs: Evidence, rhs: Evidence) -> Bool {
            lhs.variantRequests == rhs.variantRequests && lhs.variantErrors == rhs.variantErrors && lhs.stableRequests == rhs.stableRequests
                && lhs.stableErrors == rhs.stableErrors && lhs.zScore == rhs.zScore
                && lhs.p95Nanoseconds?.variant == rhs.p95Nanoseconds?.variant && lhs.p95Nanoseconds?.stable == rhs.p95Nanoseconds?.stable
        }

        public var variantErrorRate: Double { Double(variantErrors) / Double(max(1, variantRequests)) }
        public var stableErrorRate: Double { Double(stableErrors) / Double(max(1, stableRequests)) }

        public var description: String {
            if let p95 = p95Nanoseconds {
                return "p95 time to first byte \(p95.variant / 1_000_000) ms against the stable variant's \(p95.stable / 1_000_000) ms "
                    + "(\(variantRequests) and \(stableRequests) requests)"
            }
            return "error rate \(variantErrors)/\(variantRequests) against the stable variant's \(stableErrors)/\(stableRequests) (z \(Double(Int(zScore * 100)) / 100))"
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

    /// A request of `variant` ended (an answer from the upstream, or Reprise's own error for it);
    /// `latencyNanoseconds` is its time to first byte, when it had one.
    public mutating func requestEnded(variant: Int, isError: Bool, latencyNanoseconds: UInt64? = nil, now: UInt64) -> Action {
        guard config.enabled, states.indices.contains(variant), !isTripped(variant: variant) else { return .none }
        window.record(variant: variant, isError: isError, latencyNanoseconds: config.latencyRatio > 0 ? latencyNanoseconds : nil, now: now)
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
        var evidence = Evidence(
            variantRequests: candidate.requests, variantErrors: candidate.errors, stableRequests: stable.requests, stableErrors: stable.errors,
            zScore: 0)
        if let p95 = slowerP95(candidate, stable) {
            evidence.p95Nanoseconds = p95
            return evidence
        }
        let rate = evidence.variantErrorRate
        let stableRate = evidence.stableErrorRate
        guard candidate.errors > 0, rate >= stableRate * config.errorRatio, rate - stableRate >= config.minErrorRateIncrease else { return nil }
        // Only now, when the rates already say "worse": the significance is the costly part.
        evidence.zScore = Self.zScore(candidate, stable)
        guard evidence.zScore >= config.minZScore else { return nil }
        return evidence
    }

    /// The p95s when the variant's is `latency_ratio` times the stable one's and
    /// `min_latency_increase` above it (each over at least `min_requests` answers).
    private func slowerP95(_ candidate: RollbackGuardWindow.Count, _ stable: RollbackGuardWindow.Count) -> (variant: UInt64, stable: UInt64)? {
        guard config.latencyRatio > 0, candidate.latency.total >= config.minRequests, stable.latency.total >= config.minRequests,
              let variantP95 = candidate.latency.quantile(0.95), let stableP95 = stable.latency.quantile(0.95) else { return nil }
        guard Double(variantP95) >= Double(stableP95) * config.latencyRatio,
              Int64(clamping: variantP95) - Int64(clamping: stableP95) >= config.minLatencyIncrease.nanoseconds else { return nil }
        return (variantP95, stableP95)
    }

    /// How many standard errors (of a normal distribution) the variant's error count is above
    /// chance: the exact binomial probability of seeing at least its errors in its requests if
    /// it failed at the pooled rate of both, expressed as the z of the same one-sided tail.
    /// Exact rather than a normal approximation because the counts are small (a handful of
    /// errors per window), where the approximation's tail is far too thin and noise trips it.
    static func zScore(_ candidate: RollbackGuardWindow.Count, _ stable: RollbackGuardWindow.Count) -> Double {
        let pooled = Double(candidate.errors + stable.errors) / Double(candidate.requests + stable.requests)
        guard pooled > 0 else { return 0 }
        guard pooled < 1 else { return 0 }
        let tail = binomialUpperTail(atLeast: candidate.errors, of: candidate.requests, rate: pooled)
        return normalQuantileAbove(tail)
    }

    /// P(X >= k) for X ~ Binomial(n, p), summed from k up until the terms stop mattering.
    static func binomialUpperTail(atLeast k: Int, of n: Int, rate p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n else { return 0 }
        let logP = log(p), logQ = log1p(-p)
        var term = exp(lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1)) + Double(k) * logP + Double(n - k) * logQ)
        var sum = term
        var i = k
        while i < n {
            // pmf(i + 1) / pmf(i) = (n - i) / (i + 1) * p / q
            term *= Double(n - i) / Double(i + 1) * p / (1 - p)
            sum += term
            i += 1
            if term < sum * 1e-12 { break }
        }
        return min(1, sum)
    }

    /// The z whose one-sided normal tail is `tail` (bisection over erfc: called only when the
    /// cheap conditions already hold, so its cost does not matter).
    static func normalQuantileAbove(_ tail: Double) -> Double {
        guard tail > 0 else { return .infinity }
        guard tail < 0.5 else { return 0 }
        var low = 0.0, high = 40.0
        for _ in 0 ..< 60 {
            let mid = (low + high) / 2
            if 0.5 * erfc(mid / 2.0.squareRoot()) > tail { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}
