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
                let trimmed = trimmed(value[...])
                guard trimmed.utf8.count > 7, CredentialHeaders.equalsIgnoringCase(String(trimmed.prefix(7)), "bearer ") else { return }
                let token = Self.trimmed(trimmed.dropFirst(7))
                if !token.isEmpty { bearer = token }
            case .apiKey where apiKey == nil:
                let token = trimmed(value[...])
                if !token.isEmpty { apiKey = token }
            default:
                break
            }
        }
        return bearer ?? apiKey
    }

    /// Without surrounding spaces and tabs (HTTP optional whitespace), as a slice.
    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.utf8.first, CredentialHeaders.isSpace(first) { text = text.dropFirst() }
        while let last = text.utf8.last, CredentialHeaders.isSpace(last) { text = text.dropLast() }
        return text
    }
}
