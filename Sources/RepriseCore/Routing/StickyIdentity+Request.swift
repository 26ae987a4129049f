import RepriseCrypto

extension StickyIdentity {
    /// The identity of a request, or nil when it has none (no credential, no such header, no
    /// `user` in the body). A credential is hashed first (the cache's `credential` namespace):
    /// the key itself never enters the bucket hash.
    public func identity(forEachHeader: NamespaceMode.HeaderVisitor, body: [UInt8]?) -> String? {
        switch self {
        case .credential:
            let namespace = NamespaceMode.credential.namespace(hasher: SHA256Hasher(), forEachHeader: forEachHeader)
            return NamespaceMode.isAnonymous(namespace) ? nil : namespace
        case .header(let wanted):
            var found: String?
            forEachHeader { name, value in
                if found == nil, name.lowercased() == wanted { found = value }
            }
            return found
        case .bodyUser:
            return body.flatMap(ModelRewrite.user(body:))
        }
    }
}
