/// The key a client presents in `auth.mode: keys`: `Authorization: Bearer <key>` or
/// `api-key: <key>` (Azure style), the first in that order. A slice of the header's value:
/// nothing is copied on the request path.
public enum PresentedKey {
    public static func read(_ forEachHeader: NamespaceMode.HeaderVisitor) -> Substring? {
        var bearer: Substring?
        var apiKey: Substring?
        forEachHeader { name, value in
            switch CredentialHeaders.Name(header: name) {
            case .authorization where bearer == nil:
                if let token = CredentialHeaders.token(of: value, bearer: .required), !token.isEmpty { bearer = token }
            case .apiKey where apiKey == nil:
                if let token = CredentialHeaders.token(of: value, bearer: .kept), !token.isEmpty { apiKey = token }
            default:
                break
            }
        }
        return bearer ?? apiKey
    }

    /// Whether a header of this name (its bytes, any case) is `Authorization`.
    public static func isAuthorization(headerName name: UnsafeBufferPointer<UInt8>) -> Bool {
        CredentialHeaders.Name(header: name) == .authorization
    }

    /// The key `read` takes from an `Authorization` value's bytes (`Bearer <key>`, in place),
    /// or nil when the value presents none. The first `Authorization` line that presents one is
    /// the key `read` finds, whatever other lines say.
    public static func bearerKey(inAuthorizationValue value: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        guard let offsets = CredentialHeaders.tokenOffsets(in: value, bearer: .required), !offsets.isEmpty else { return nil }
        return UnsafeBufferPointer(rebasing: value[offsets])
    }

    /// Whether `read` looks at a header of this name (its bytes, any case): callers with the
    /// head in bytes make Strings of those lines only.
    public static func reads(headerNamed name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch CredentialHeaders.Name(header: name) {
        case .authorization?, .apiKey?: true
        default: false
        }
    }
}
