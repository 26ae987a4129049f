import Synchronization

/// Limits retries to a fraction of the request load of one upstream (see `RetryBudgetPolicy`).
///
/// Shared by every event loop that talks to the upstream, hence the `Mutex`; each call is a few
/// additions over the bucket ring under the lock, with no allocation.
public final class RetryBudget: Sendable {
    /// Requests and retries seen in one bucket.
    public struct Counts: Sendable, Hashable, AdditiveArithmetic {
        public var requests: Int
        public var retries: Int

        public init(requests: Int = 0, retries: Int = 0) {
            self.requests = requests
            self.retries = retries
        }

        public static let zero = Counts()
        public static func + (lhs: Counts, rhs: Counts) -> Counts {
            Counts(requests: lhs.requests + rhs.requests, retries: lhs.retries + rhs.retries)
        }
        public static func - (lhs: Counts, rhs: Counts) -> Counts {
            Counts(requests: lhs.requests - rhs.requests, retries: lhs.retries - rhs.retries)
        }
    }

    public let policy: RetryBudgetPolicy
    private let window: Mutex<SlidingWindow<Counts>>

    public init(policy: RetryBudgetPolicy = RetryBudgetPolicy()) {
        self.policy = policy
        self.window = Mutex(SlidingWindow(windowNanoseconds: policy.windowNanoseconds, bucketCount: policy.bucketCount))
    }

    /// Counts one client request (its first attempt) toward the budget.
    public func recordRequest(now: UInt64) {
        window.withLock { $0.add(Counts(requests: 1), now: now) }
    }

    /// Takes one retry from the budget if it has room; false means "do not retry".
    public func tryAcquireRetry(now: UInt64) -> Bool {
        window.withLock { window in
            let seen = window.total(now: now)
            // Whole retries only: 0.2 × 1 request earns no retry of its own.
            let earned = Int((policy.ratio * Double(seen.requests)).rounded(.down))
            let (room, overflow) = earned.addingReportingOverflow(policy.allowancePerWindow)
            guard overflow || seen.retries < room else { return false }
            window.add(Counts(retries: 1), now: now)
            return true
        }
    }

    /// Requests and granted retries in the window ending at `now` (for metrics and tests).
    public func counts(now: UInt64) -> Counts {
        window.withLock { $0.total(now: now) }
    }
}
