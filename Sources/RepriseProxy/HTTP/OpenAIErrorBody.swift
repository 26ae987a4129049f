import NIOCore
import RepriseCore

/// The errors Reprise itself answers with, in OpenAI's error shape
/// `{"error":{"message":..,"type":..,"code":..}}` so SDKs surface them like any API error.
public struct ProxyError: Error, Sendable, Equatable {
    public var status: Int
    public var type: String
    public var code: String
    public var message: String

    public init(status: Int, type: String, code: String, message: String) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
    }

    public static func badRequest(_ message: String) -> Self {
        Self(status: 400, type: "invalid_request_error", code: "bad_request", message: message)
    }
    public static func notFound(_ message: String) -> Self {
        Self(status: 404, type: "invalid_request_error", code: "not_found", message: message)
    }
    public static func requestTimeout(_ message: String) -> Self {
        Self(status: 408, type: "invalid_request_error", code: "request_timeout", message: message)
    }
    public static func bodyTooLarge(limit: Int) -> Self {
        Self(status: 413, type: "invalid_request_error", code: "request_too_large",
             message: "request body exceeds the proxy's limit of \(limit) bytes (server.max_body_bytes)")
    }
    public static func headersTooLarge(limit: Int) -> Self {
        Self(status: 431, type: "invalid_request_error", code: "request_header_fields_too_large",
             message: "request headers exceed the proxy's limit of \(limit) bytes (server.max_header_bytes)")
    }
    public static func upstreamUnreachable(_ detail: String) -> Self {
        Self(status: 502, type: "api_error", code: "upstream_unreachable", message: "upstream unreachable: \(detail)")
    }
    /// The TLS handshake with an `https://` upstream failed (certificate not trusted, wrong
    /// host name, expired, protocol refused): said apart from "unreachable" because the fix is
    /// in the configuration (`upstream.ca_file`, the URL's host) or on the upstream.
    public static func upstreamTLSFailed(_ detail: String) -> Self {
        Self(status: 502, type: "api_error", code: "upstream_tls_failed", message: "upstream TLS failed: \(detail)")
    }
    public static func upstreamBadResponse(_ detail: String) -> Self {
        Self(status: 502, type: "api_error", code: "upstream_bad_response", message: "upstream failed: \(detail)")
    }
    public static func upstreamTimeout(_ detail: String) -> Self {
        Self(status: 504, type: "api_error", code: "upstream_timeout", message: "upstream timed out: \(detail)")
    }
    public static func unavailable(_ message: String) -> Self {
        Self(status: 503, type: "api_error", code: "service_unavailable", message: message)
    }
    public static func tooManyConnections(limit: Int) -> Self {
        Self(status: 503, type: "api_error", code: "too_many_connections",
             message: "the proxy has its limit of \(limit) open client connections (server.max_connections); retry shortly")
    }

    /// The JSON body, escaped by hand: this runs on error paths inside the event loop and
    /// needs no Foundation encoder.
    public func jsonBody() -> String {
        "{\"error\":{\"message\":\(JSONString.quote(message)),\"type\":\(JSONString.quote(type)),\"code\":\(JSONString.quote(code))}}"
    }
}
