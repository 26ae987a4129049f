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

    /// Whether `read` looks at a header of this name (its bytes, any case): callers with the
    /// head in bytes make Strings of those lines only.
    public static func reads(headerNamed name: UnsafeBufferPointer<UInt8>) -> Bool {
        switch CredentialHeaders.Name(header: name) {
        case .authorization?, .apiKey?: true
        default: false
        }
    }
}
