import NIOCore
import RepriseCore

/// Where one request goes: its route and variant (labels of its metrics, log line and cache
/// key), the upstream serving that variant, and the model the variant rewrites to.
struct RequestRoute {
    let route: String
    let variant: String
    let targets: UpstreamTargets
    /// The `model` the upstream gets instead of the request's; nil: unchanged.
    let model: String?
    /// A route matched: the response says `X-Reprise-Variant`, the guard hears its outcome.
    let position: Position?
    /// The response's `x-reprise-variant` line, encoded (nil when no route matched).
    var variantLine: [UInt8]? = nil

    /// The route table entry, for the rollback guard; `generation` tells a reload apart.
    struct Position {
        let generation: Int
        let route: Int
        let variant: Int
    }

    /// What a request no route matches gets: the behaviour without routes.
    static func unrouted(_ targets: UpstreamTargets) -> RequestRoute {
        RequestRoute(route: "default", variant: "primary", targets: targets, model: nil, position: nil)
    }

    /// The request as the variant's upstream gets it: body `model` rewritten when set, the
    /// client's credentials replaced in `auth.mode: keys` (every upstream call goes through here).
    func upstreamRequest(_ request: ProxyRequest) -> ProxyRequest {
        // The credentials are replaced as the head is encoded (`UpstreamRequestEncoder`).
        var changed = request
        guard let model, let body = request.body,
              let rewritten = ModelRewrite.rewrite(body: Array(body.readableBytesView), model: model) else { return changed }
        changed.body = ByteBuffer(bytes: rewritten)
        return changed
    }
}
