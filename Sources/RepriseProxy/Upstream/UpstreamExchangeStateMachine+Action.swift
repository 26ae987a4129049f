import RepriseCore

extension UpstreamExchangeStateMachine {
    /// What the runner (`UpstreamExchange`) does for one decision of the machine. Actions that
    /// answer the client run their steps in the order written here; each ends the exchange's
    /// part in the flight and lands it (`land`: the finished call no longer keeps it alive).
    enum Action: Equatable, Sendable {
        /// Ask the primary's circuit breaker (no breaker admits), keep the ticket, and report
        /// the verdict with `primaryBreakerAnswered`.
        case consultPrimaryBreaker
        /// The primary's breaker refused: ask the fallback's (no breaker admits), keep the
        /// ticket, and report the verdict with `fallbackBreakerAnswered`.
        case consultFallbackBreaker
        /// Send attempt `number` to the primary or the fallback, its events tagged with the
        /// number; then report `attemptStarted` (or `requestRejected` when the request cannot be
        /// built).
        case startAttempt(number: Int, onFallback: Bool)
        /// Report `firstByteDeadlineReached` for `attempt` after this long.
        case armFirstByteTimer(attempt: Int, nanoseconds: Int64)
        case cancelFirstByteTimer
        /// Tell the held breaker ticket (if any) what this attempt says about the upstream.
        case recordBreakerOutcome(CircuitBreakerOutcome)
        /// Stop the upstream call; with the first-byte timer, its failure then reports the timeout.
        case cancelCall
        /// Report `retryTimerFired` after this long.
        case scheduleRetry(afterNanoseconds: UInt64)
        /// Forward the head (without hop-by-hop headers, with `X-Cache` and
        /// `X-Reprise-Attempts: attempt`) to the tee when `toTee` (never a fallback's answer:
        /// the key names the primary's), to the flight and to the client.
        case writeHead(attempt: Int, toTee: Bool)
        /// Give the part to the tee, the flight and the client; then report
        /// `bodyPartDelivered` with the tee's verdict on the stream.
        case writeBodyPart
        /// The answer is whole: the flight's followers are served (ended there once).
        case completeFlight
        /// The upstream's body ended: the tee stores the answer when `store`, the flight
        /// completes when `completeFlight`, land, then end the client's response.
        case end(store: Bool, completeFlight: Bool)
        /// Part of the answer reached the client and the rest broke: cut the flight, land, and
        /// abort the client's connection (only that tells it the message is incomplete).
        case abort
        /// Reprise's own error (`X-Cache`, `X-Reprise-Attempts` and, when given, `Retry-After`):
        /// to the flight, land, then to the client unless it left or has a head already.
        case sendError(ProxyError, attempts: Int, retryAfterNanoseconds: UInt64?)
        /// The leader's client left while it leads a flight: the flight decides whether the call
        /// goes on for its followers (else it reports `callAbandoned`).
        case leaderLeft
        case land
    }
}
