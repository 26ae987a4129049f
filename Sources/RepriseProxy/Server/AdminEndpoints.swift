import Foundation
import NIOCore
import NIOHTTP1
import RepriseCore

/// `/admin/...`: operations behind the admin token (`admin.token`).
///
/// `DELETE /admin/cache` purges every cached answer; `DELETE /admin/cache?namespace=NS` purges
/// one tenant's. The answer tells how many answers are gone (`purged`: Redis's count when Redis
/// is configured, else the memory cache's) and what each tier removed. `/admin/flags...`:
/// `FlagEndpoints`.
struct AdminEndpoints: Sendable {
    let token: String
    let cache: ResponseCache
    let flags: FlagEndpoints

    func respond(to request: ProxyRequest, writer: ResponseWriter) {
        guard !token.isEmpty else {
            writer.send(error: ProxyError(status: 404, type: "invalid_request_error", code: "admin_disabled",
                                          message: "admin endpoints are disabled: set admin.token to enable them"))
            return
        }
        let presented = request.head.headers.first(name: "authorization").map { value -> String in
            value.lowercased().hasPrefix("bearer ") ? String(value.dropFirst("bearer ".count)) : value
        }
        guard let presented, Self.constantTimeEquals(presented, token) else {
            writer.send(error: ProxyError(status: 401, type: "invalid_request_error", code: "invalid_admin_token",
                                          message: "a valid admin token is required (Authorization: Bearer <admin.token>)"))
            return
        }
        if flags.respond(to: request, writer: writer) { return }
        switch (request.head.method, request.path) {
        case (.DELETE, "/admin/cache"):
            let namespace = Self.queryValue("namespace", in: request.head.uri)
            let scope = namespace.map { JSONString.quote($0) } ?? "null"
            cache.purge(namespace: namespace, on: writer.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let removed):
                    let redis = removed.redis.map(String.init) ?? "null"
                    writer.send(status: .ok, headers: ["content-type": "application/json"],
                                body: ByteBuffer(string: "{\"purged\":\(removed.purged),\"memory\":\(removed.memory),\"redis\":\(redis),\"namespace\":\(scope)}"))
                case .failure(let error):
                    writer.send(error: ProxyError(status: 502, type: "api_error", code: "purge_failed",
                                                  message: "the memory cache was purged, Redis was not: \(error)"))
                }
            }
        default:
            writer.send(error: .notFound("no admin endpoint \(request.head.method) \(request.path)"))
        }
    }

    static func queryValue(_ name: String, in uri: String) -> String? {
        guard let question = uri.firstIndex(of: "?") else { return nil }
        for pair in uri[uri.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name), parts.count == 2 {
                return String(parts[1]).removingPercentEncoding ?? String(parts[1])
            }
        }
        return nil
    }

    /// Compares without an early exit, so the time taken does not reveal a matching prefix.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        ConstantTime.equals(a.utf8, b.utf8)
    }
}
