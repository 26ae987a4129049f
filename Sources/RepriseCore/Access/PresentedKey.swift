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
}
