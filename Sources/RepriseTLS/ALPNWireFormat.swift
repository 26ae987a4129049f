/// ALPN protocol names in the wire format OpenSSL takes and gives: each name prefixed by its
/// length in one byte (RFC 7301).
enum ALPNWireFormat {
    static func encode(_ protocols: [String]) throws(TLSConfigurationError) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else {
                throw TLSConfigurationError(.badSetting, path: nil, detail: "ALPN protocol '\(name)' must be 1...255 bytes", openSSLErrors: [])
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        return wire
    }
}
