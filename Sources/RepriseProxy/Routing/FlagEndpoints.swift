import Foundation
import NIOCore
import NIOHTTP1
import RepriseCore

/// `/admin/flags` (behind the admin token):
///
/// - `GET /admin/flags`: every route's variants with the weight served, the configured one,
///   the override, its source (`config`, `redis`, `guard`) and the guard's state.
/// - `PUT /admin/flags/ROUTE/VARIANT` with `{"weight": 20}`: an override (percent), stored in
///   Redis for the whole fleet when `cache.redis.url` is set, else kept by this process; it
///   also resets the variant's rollback guard (the operator decides now).
/// - `DELETE /admin/flags/ROUTE/VARIANT`: removes the override and resets the rollback guard
///   (the variant gets its configured weight back).
struct FlagEndpoints: Sendable {
    let routing: RoutingRuntime
    let store: FlagStore?

    /// Handles `/admin/flags...`; false for another path.
    func respond(to request: ProxyRequest, writer: ResponseWriter) -> Bool {
        let path = request.path
        guard path == "/admin/flags" || path.hasPrefix("/admin/flags/") else { return false }
        let parts = path.dropFirst("/admin/flags".count).split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.head.method, parts.count) {
        case (.GET, 0):
            sendState(writer)
        case (.PUT, 2):
            put(request, route: parts[0], variant: parts[1], writer: writer)
        case (.DELETE, 2):
            reset(route: parts[0], variant: parts[1], writer: writer)
        default:
            writer.send(error: .notFound("no admin endpoint \(request.head.method) \(path) (GET /admin/flags, PUT or DELETE /admin/flags/ROUTE/VARIANT)"))
        }
        return true
    }

    private func put(_ request: ProxyRequest, route: String, variant: String, writer: ResponseWriter) {
        guard routing.contains(route: route, variant: variant) else { return unknown(route, variant, writer) }
        let body = request.body.map { Data($0.readableBytesView) } ?? Data()
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let weight = (object["weight"] as? NSNumber)?.doubleValue, (0 ... 100).contains(weight), object.count == 1 else {
            writer.send(error: .badRequest("the body must be {\"weight\": PERCENT} with PERCENT between 0 and 100"))
            return
        }
        let override = FlagOverride(origin: .admin, basisPoints: Int((weight * 100).rounded()))
        // An operator who sets a weight takes over from the guard (as every other instance does
        // when the stored guard trip is replaced by this override).
        store(override, route: route, variant: variant, writer: writer) {
            try? routing.resetGuard(route: route, variant: variant)
            try? routing.setOverride(override, route: route, variant: variant)
        }
    }

    private func reset(route: String, variant: String, writer: ResponseWriter) {
        guard routing.contains(route: route, variant: variant) else { return unknown(route, variant, writer) }
        store(nil, route: route, variant: variant, writer: writer) {
            try? routing.resetGuard(route: route, variant: variant)
            try? routing.setOverride(nil, route: route, variant: variant)
        }
    }

    /// Writes to Redis first (when there is one) and applies here only once it is stored, so
    /// this process never shows a state the fleet does not share.
    private func store(_ override: FlagOverride?, route: String, variant: String, writer: ResponseWriter, apply: @escaping () -> Void) {
        guard let store else {
            apply()
            return sendState(writer)
        }
        store.write(override, route: route, variant: variant).hop(to: writer.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                apply()
                sendState(writer)
            case .failure(let error):
                writer.send(error: ProxyError(status: 502, type: "api_error", code: "flag_store_failed",
                                              message: "the override could not be stored in Redis, nothing changed: \(error)"))
            }
        }
    }

    private func unknown(_ route: String, _ variant: String, _ writer: ResponseWriter) {
        writer.send(error: .notFound("no variant \(variant) in route \(route) (GET /admin/flags lists them)"))
    }

    private func sendState(_ writer: ResponseWriter) {
        writer.send(status: .ok, headers: ["content-type": "application/json"],
                    body: ByteBuffer(string: FlagStateDocument.json(board: routing.board, guards: routing.guardStates, fleet: store != nil)))
    }
}
