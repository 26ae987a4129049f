import NIOCore
import NIOHTTP1
import RepriseCore

/// What one request did, gathered while it is served and reported once when its response ended
/// (metrics and the access log read it). Lives in the request's `ResponseWriter`.
struct RequestRecord {
    let requestID: RequestID
    /// Nil for a connection refused before any request was read.
    let method: HTTPMethod?
    /// The path without the query (a query can carry a credential: `?api-key=`).
    let path: Substring
    let receivedAt: NIODeadline
    var route = "default"
    var variant = "primary"
    /// Set when a route chose the variant: the response's `x-reprise-variant` line, encoded once
    /// per variant (`RoutingTable.Route.variantLines`).
    var variantLine: [UInt8]?
    var cache = CacheStatus.bypass
    /// The name of the issued key the request was admitted with (`auth.mode: keys`); never
    /// the key itself.
    var client: String?
    /// The model the request named, as sent (the log shows it; metrics map it to a bounded label).
    var model: String?
    /// The status Reprise answered with; 499 when the client left before a head was written.
    var status = 0
    var firstByteAt: NIODeadline?
    /// From the first upstream attempt's start (or joining a flight) to the upstream's last
    /// event: the time spent waiting for the upstream, which the overhead excludes.
    var upstreamStartedAt: NIODeadline?
    var upstreamEndedAt: NIODeadline?
    var upstreamAttempts = 0
    var usage: CacheEntry.Usage?
    /// The upstream's own `x-request-id` (relayed to the client as `x-upstream-request-id`).
    var upstreamRequestID: String?
    /// Not counted in the request metrics: `/metrics`, `/healthz`, `/readyz`.
    var isOperational = false
    var outcome = Outcome.completed
    /// The request body, kept only when `logging.log_bodies` is on.
    var loggedBody: ByteBuffer?

    enum Outcome: String {
        /// The response was written whole.
        case completed
        /// The response was cut (an upstream stream broke after the head went out).
        case aborted
        /// The client disconnected before the response ended.
        case clientGone = "client_gone"
    }

    init(requestID: RequestID, method: HTTPMethod?, path: Substring, receivedAt: NIODeadline) {
        self.requestID = requestID
        self.method = method
        self.path = path
        self.receivedAt = receivedAt
    }

    /// Time waiting for the upstream, in nanoseconds (0 when nothing went upstream).
    func upstreamNanoseconds(endedAt end: NIODeadline) -> Int64 {
        guard let start = upstreamStartedAt else { return 0 }
        return max(0, ((upstreamEndedAt ?? end) - start).nanoseconds)
    }
}
