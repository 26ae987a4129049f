/// One limit of `limit` units per `periodMicroseconds` as the Generic Cell Rate Algorithm: the
/// state is one time, the theoretical arrival time (TAT) at which the limit is whole again.
/// A cost of n moves it n emission intervals (period / limit) on; a request is allowed while
/// the TAT stays within one period of now, so a whole period's units may come in one burst.
///
/// Microseconds, integers: `RateLimitScript`'s Lua does the same arithmetic in doubles, exact
/// below 2^53 µs (285 years), so both decide alike on the same trace.
public struct GCRA: Sendable, Equatable {
    public let limit: Int
    public let periodMicroseconds: Int64

    public init(limit: Int, periodMicroseconds: Int64) {
        precondition(limit > 0 && periodMicroseconds > 0)
        self.limit = limit
        self.periodMicroseconds = periodMicroseconds
    }

    /// At least 1 µs: a limit finer than the clock still moves time on.
    public var emissionInterval: Int64 { max(1, periodMicroseconds / Int64(limit)) }

    /// 2^53: the largest TAT, exact in the Lua script's doubles as here.
    public static let ceiling: Int64 = 1 << 53

    public struct Result: Sendable, Equatable {
        public var allowed: Bool
        /// The TAT to store when the request is allowed (unchanged otherwise).
        public var tat: Int64
        /// Units left in the limit after this decision.
        public var remaining: Int
        /// Until the limit is whole again.
        public var resetMicroseconds: Int64
        /// Until this request could be allowed; 0 when allowed.
        public var retryAfterMicroseconds: Int64

        public init(allowed: Bool, tat: Int64, remaining: Int, resetMicroseconds: Int64, retryAfterMicroseconds: Int64) {
            self.allowed = allowed
            self.tat = tat
            self.remaining = remaining
            self.resetMicroseconds = resetMicroseconds
            self.retryAfterMicroseconds = retryAfterMicroseconds
        }
    }

    public func evaluate(tat stored: Int64?, cost: Int, now: Int64) -> Result {
        let interval = emissionInterval
        let tat = max(stored ?? now, now)
        // Saturating: a cost beyond any period (a request larger than the whole limit) is
        // simply never allowed, without overflow.
        let (increment, overflow) = Int64(max(0, cost)).multipliedReportingOverflow(by: interval)
        let newTAT = overflow || increment > Self.ceiling ? Self.ceiling : min(Self.ceiling, tat + increment)
        if newTAT - now <= periodMicroseconds {
            return Result(allowed: true, tat: newTAT, remaining: Int((periodMicroseconds - (newTAT - now)) / interval),
                          resetMicroseconds: newTAT - now, retryAfterMicroseconds: 0)
        }
        return Result(allowed: false, tat: tat, remaining: Int(max(0, periodMicroseconds - (tat - now)) / interval),
                      resetMicroseconds: tat - now, retryAfterMicroseconds: newTAT - periodMicroseconds - now)
    }

    /// The TAT after `delta` more (or fewer) units than were counted: the answer's `usage`
    /// correcting the estimate. A refund never moves the TAT before now.
    public func corrected(tat stored: Int64?, delta: Int, now: Int64) -> Int64? {
        guard let stored, delta != 0 else { return stored }
        let shift = Int64(delta).multipliedReportingOverflow(by: emissionInterval)
        if shift.overflow { return stored }
        if delta > 0 { return min(Self.ceiling, max(stored, now) + shift.partialValue) }
        return stored > now ? max(now, stored + shift.partialValue) : stored
    }
}
