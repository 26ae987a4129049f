import RepriseTLS

/// Why a call to the upstream failed.
enum UpstreamCallError: Error, CustomStringConvertible {
    case connectFailed(String)
    /// No connection (TCP connect and, for `https://`, the TLS handshake) within
    /// `upstream.connect_timeout`.
    case connectTimeout
    /// The TLS handshake with `server` failed: nothing of the request was sent.
    case tlsFailed(TLSConnectionError, server: String)
    /// No byte for `upstream.read_timeout` while the answer was awaited or read.
    case readTimeout
    /// `upstream.total_timeout` passed.
    case deadlineExceeded
    /// The upstream closed the connection before the answer ended.
    case remoteClosed
    case cancelled
    case badResponse(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): "cannot connect to the upstream: \(reason)"
        case .connectTimeout: "no connection within upstream.connect_timeout"
        case .tlsFailed(let error, let server): "TLS with \(server) failed: \(error.summary); the request was not sent"
        case .readTimeout: "no data within upstream.read_timeout"
        case .deadlineExceeded: "no complete answer within upstream.total_timeout"
        case .remoteClosed: "the upstream closed the connection before answering"
        case .cancelled: "cancelled"
        case .badResponse(let reason): "the upstream's answer is not valid HTTP/1.1: \(reason)"
        }
    }
}
