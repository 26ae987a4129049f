/// The key a client presents in `auth.mode: keys`: `Authorization: Bearer <key>` or
/// `api-key: <key>` (Azure style), the first in that order.
public enum PresentedKey {
    public static func read(_ forEachHeader: NamespaceMode.HeaderVisitor) -> String? {
        var bearer: String?
        var apiKey: String?
        forEachHeader { name, value in
            switch CredentialHeaders.Name(header: name) {
            case .authorization where bearer == nil:
                let trimmed = value.trimmingSpaces
                guard trimmed.utf8.count > 7, CredentialHeaders.equalsIgnoringCase(String(trimmed.prefix(7)), "bearer ") else { return }
                let token = String(trimmed.dropFirst(7)).trimmingSpaces
                if !token.isEmpty { bearer = token }
            case .apiKey where apiKey == nil:
                let token = value.trimmingSpaces
                if !token.isEmpty { apiKey = token }
            default:
                break
            }
        }
        return bearer ?? apiKey
    }
}
