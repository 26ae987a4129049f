/// Picks the random part of a backoff delay: a value in `0...upper` (full jitter).
///
/// Injected so tests can pin the extremes; production uses the system generator. A closure rather
/// than a generic `RandomNumberGenerator` so the retry machine's type stays simple for its owners.
public struct JitterSource: Sendable {
    private let pick: @Sendable (UInt64) -> UInt64

    /// - Parameter pick: returns a value in `0...upper` for the given `upper`; values above
    ///   `upper` are clamped.
    public init(_ pick: @escaping @Sendable (_ upper: UInt64) -> UInt64) {
        self.pick = pick
    }

    /// Uniform over `0...upper` from `SystemRandomNumberGenerator`.
    public static let system = JitterSource { upper in UInt64.random(in: 0...upper) }

    /// Always the longest delay (no jitter): deterministic traces in tests.
    public static let maximum = JitterSource { upper in upper }

    /// Always zero.
    public static let minimum = JitterSource { _ in 0 }

    /// A value in `0...upper`.
    public func delay(upTo upper: UInt64) -> UInt64 {
        min(pick(upper), upper)
    }
}
