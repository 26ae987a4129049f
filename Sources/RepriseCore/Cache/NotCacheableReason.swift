/// Why a request body cannot be turned into a cache key. The request is then passed through
/// untouched and counted as BYPASS; nothing is wrong with it as far as the upstream is concerned.
public enum NotCacheableReason: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON (RFC 8259) at `offset`: syntax error, invalid UTF-8, lone surrogate escape.
    case invalidJSON(offset: Int, detail: String)
    /// The body is JSON but its top-level value is not an object.
    case topLevelNotObject
    /// Arrays/objects nested deeper than the configured bound.
    case nestingTooDeep(limit: Int)
    /// An object carries the same member name twice (after unescaping); which one the upstream
    /// honours is unspecified, so no key can stand for the request.
    case duplicateKey(String)
    /// A number whose decimal exponent is too large to normalise (e.g. `1e99999999999`).
    case numberOutOfRange(offset: Int)

    public var description: String {
        switch self {
        case .invalidJSON(let offset, let detail): "invalid JSON at byte \(offset): \(detail)"
        case .topLevelNotObject: "top-level JSON value is not an object"
        case .nestingTooDeep(let limit): "JSON nested deeper than \(limit)"
        case .duplicateKey(let key): "duplicate object member \"\(key)\""
        case .numberOutOfRange(let offset): "number exponent out of range at byte \(offset)"
        }
    }
}
