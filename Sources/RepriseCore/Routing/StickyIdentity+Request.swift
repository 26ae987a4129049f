extension StickyIdentity {
    /// The identity of a request, or nil when it has none (no credential, no such header, no
    /// `user` in the body). For `credential`, the API key as sent (`ForcedVariantCredentials.credential`):
    /// it only goes into the bucket hash, which keeps nothing, so no SHA-256 per request.
    public func identity(forEachHeader: NamespaceMode.HeaderVisitor, body: [UInt8]?) -> Substring? {
        switch self {
        case .credential:
            return ForcedVariantCredentials.credential(forEachHeader: forEachHeader)
        case .header(let wanted):
            var found: Substring?
            forEachHeader { name, value in
                if found == nil, CredentialHeaders.equalsIgnoringCase(name, wanted) { found = value[...] }
            }
            return found
        case .bodyUser:
            return body.flatMap(ModelRewrite.user(body:)).map { $0[...] }
        }
    }
}
