import NIOCore
import NIOHTTP1
import NIOPosix
import RepriseCore
import RepriseCrypto

/// `auth:` at the start of every API request: who the client is, what its key may do, and the
/// credential the upstream sees. In `passthrough` mode (the default) requests go as sent.
///
/// In `keys` mode: a missing or unknown key is 401 (`invalid_api_key`); a model or route the
/// key may not use is 403; output tokens above the key's cap are clamped (the body rewritten)
/// or 400 (`max_tokens_exceeded`). The client's credential headers are removed and the
/// upstream key is sent as `Authorization: Bearer`. The key's name becomes the request's
/// tenant: cache namespace, limit identity and the access log's `client`.
final class AccessControl: Sendable {
    let mode: AuthMode
    private let ring: ClientKeyRing
    /// `Bearer <upstream key>`, built once.
    private let upstreamAuthorization: String
    /// Per event-loop thread: a hasher (not thread-safe) and the keys that thread has already
    /// found, so a client's repeated key costs a dictionary lookup instead of a SHA-256 (the
    /// cache-hit path is a few microseconds; a digest through libcrypto's EVP is a large part
    /// of that). Only found keys are remembered: at most one entry per issued key, and a
    /// client guessing keys always pays the digest and the constant-time compare. Unchecked:
    /// each value is only ever seen by the thread that made it.
    nonisolated(unsafe) private let perThread = ThreadSpecificVariable<ThreadState>()

    final class ThreadState {
        let hasher = SHA256Hasher()
        /// Keyed by the presented text itself (a Substring owning its own copy), so a lookup
        /// reads the header's bytes without building a String.
        var found: [Substring: ClientKey] = [:]
        /// The key this thread found last, and the text it was presented as: a client's next
        /// request (a kept-alive connection's usual case) is one constant-time comparison of
        /// the bytes, not a hash of them.
        var last: (presented: [UInt8], key: ClientKey)?
    }

    init(mode: AuthMode, keys: [ClientKeyConfig], upstreamKey: String) {
        self.mode = mode
        self.ring = ClientKeyRing(keys)
        self.upstreamAuthorization = "Bearer " + upstreamKey
    }

    /// What access control decided about a request.
    enum Admission {
        /// Go on (`request` now carries the tenant and the upstream credential), as `key`.
        case admitted(ClientKey?)
        /// An error was written.
        case refused
    }

    /// Admits `request` in place (its tenant, body cap and upstream credential set), or writes
    /// the refusal.
    func admit(_ request: inout ProxyRequest, writer: ResponseWriter) -> Admission {
        guard mode == .keys else { return .admitted(nil) }
        let headers = request.head.headers
        // The thread's last key when the request presents it again (read in place); else only
        // the lines the key is read from become Strings.
        guard let key = rememberedKey(presentedIn: headers)
            ?? PresentedKey.read({ visit in headers.forEach(whereName: PresentedKey.reads(headerNamed:), visit) }).flatMap(key(presented:))
        else {
            writer.send(error: .invalidAPIKey)
            return .refused
        }
        writer.record.client = key.name
        guard Self.checkRoute(key, writer: writer) else { return .refused }
        request.tenant = key.name
        // `case`, not `==`: HTTPMethod's equality goes through its raw value (a String) each time.
        if !key.models.isEmpty || key.maxTokens > 0, case .POST = request.head.method, let body = request.body, body.readableBytes > 0 {
            let bytes = Array(body.readableBytesView)
            if case .refused(let model) = ModelRestriction.check(body: bytes, allowed: key.models) {
                writer.send(error: .modelNotAllowed(model, key: key.name))
                return .refused
            }
            if key.maxTokens > 0 {
                switch TokenCap.apply(cap: key.maxTokens, mode: key.maxTokensMode, body: bytes, normalizedPath: CachePath.normalize(request.path)) {
                case .unchanged:
                    break
                case .rewritten(let rewritten, _):
                    request.body = ByteBuffer(bytes: rewritten)
                case .refused(let field, let requested):
                    writer.send(error: .maxTokensExceeded(field: field, requested: requested, cap: key.maxTokens))
                    return .refused
                case .invalid(let field):
                    writer.send(error: .badRequest("\(field) must be an integer (this key's requests are capped at \(key.maxTokens) output tokens)"))
                    return .refused
                }
            }
        }
        // Replaced when the request goes upstream (`RequestRoute.upstreamRequest`): a hit never
        // pays for rewriting the header list.
        request.upstreamAuthorization = upstreamAuthorization
        return .admitted(key)
    }

    /// The thread's last key when the request's first `Authorization` line presents exactly it
    /// (`Bearer <key>`, compared in place in constant time); nil in every other case, which
    /// `PresentedKey.read` then decides.
    private func rememberedKey(presentedIn headers: RequestHeaders) -> ClientKey? {
        guard let last = perThread.currentValue?.last else { return nil }
        let found = headers.withFirstLine(whereName: PresentedKey.isAuthorization(headerName:)) { _, value -> ClientKey? in
            guard let presented = PresentedKey.bearerKey(inAuthorizationValue: value), presented.count == last.presented.count,
                  last.presented.withUnsafeBufferPointer({ ConstantTime.equals(presented, $0) })
            else { return nil }
            return last.key
        }
        return found ?? nil
    }

    private func key(presented: Substring) -> ClientKey? {
        let state = perThread.currentValue ?? {
            let state = ThreadState()
            perThread.currentValue = state
            return state
        }()
        if let last = state.last, Self.sameBytes(presented, last.presented) { return last.key }
        if let known = state.found[presented] {
            state.last = (Array(presented.utf8), known)
            return known
        }
        let text = String(presented)
        guard let key = ring.key(presented: text, hasher: state.hasher) else { return nil }
        // Bounded by the issued keys; emptied rather than grown past them (a key file reload
        // is not in place: a restart empties it too).
        if state.found.count >= max(16, ring.count) { state.found.removeAll(keepingCapacity: true) }
        state.found[Substring(text)] = key
        state.last = (Array(text.utf8), key)
        return key
    }

    /// Whether `presented` is `known`, in time that depends on their lengths only (a remembered
    /// key must not be guessable byte by byte from response times).
    private static func sameBytes(_ presented: Substring, _ known: [UInt8]) -> Bool {
        guard presented.utf8.count == known.count else { return false }
        let compared = presented.utf8.withContiguousStorageIfAvailable { bytes in
            known.withUnsafeBufferPointer { known in ConstantTime.equals(bytes, known) }
        }
        return compared ?? ConstantTime.equals(presented.utf8, known)
    }

    /// A key with `routes` may only use those; a request without a routing decision is on
    /// route `default`. Called again by routing once it chose the route.
    static func checkRoute(_ key: ClientKey, writer: ResponseWriter) -> Bool {
        guard key.allows(route: writer.record.route) else {
            writer.send(error: .routeNotAllowed(writer.record.route, key: key.name))
            return false
        }
        return true
    }

    /// A header an upstream could read as a credential: it does not go upstream when the
    /// upstream key replaces the client's (`UpstreamRequestEncoder`).
    static func isReplacedCredential(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        replacedCredentials.contains { HeaderBytes.equalsIgnoringCase(name, $0.utf8) }
    }

    static let replacedCredentials = ["authorization", "api-key", "x-api-key", "x-goog-api-key"]
}

extension ProxyError {
    static let invalidAPIKey = ProxyError(status: 401, type: "invalid_request_error", code: "invalid_api_key",
                                          message: "Incorrect or missing API key: send a key issued for this proxy (Authorization: Bearer <key>).")

    static func modelNotAllowed(_ model: String, key: String) -> ProxyError {
        ProxyError(status: 403, type: "invalid_request_error", code: "model_not_allowed",
                   message: "The key '\(key)' may not use the model '\(model)'.")
    }

    static func routeNotAllowed(_ route: String, key: String) -> ProxyError {
        ProxyError(status: 403, type: "invalid_request_error", code: "route_not_allowed",
                   message: "The key '\(key)' may not use the route '\(route)'.")
    }

    static func maxTokensExceeded(field: String, requested: Int, cap: Int) -> ProxyError {
        ProxyError(status: 400, type: "invalid_request_error", code: "max_tokens_exceeded",
                   message: "\(field) is \(requested); this key allows at most \(cap).")
    }
}
