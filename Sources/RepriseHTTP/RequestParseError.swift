/// Why a request could not be parsed: llhttp's error (its code and name, its reason) or one of
/// the checks made around it, with the offset of the byte it stopped at, counted from the first
/// byte the parser was given on this connection.
public struct RequestParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// llhttp refused the bytes; `code` is its `llhttp_errno_t`, `name` e.g. `HPE_INVALID_METHOD`.
        case llhttp(code: Int32, name: String)
        /// A field or the whole head exceeds `RequestHeadLimits`.
        case headTooLarge
        /// A version other than HTTP/1.x.
        case unsupportedVersion(major: Int)
        /// A header value continued on the next line (obs-fold).
        case foldedHeaderLine
        /// A header line with an empty name.
        case emptyHeaderName
        /// The connection ended inside a request.
        case endedInsideRequest
    }

    public var kind: Kind
    public var reason: String
    public var offset: Int

    public init(_ kind: Kind, reason: String, offset: Int) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        switch kind {
        case .llhttp(_, let name): "\(name) at byte \(offset): \(reason)"
        default: "\(kind) at byte \(offset): \(reason)"
        }
    }
}
