/// `server.tls:` — an HTTPS listener terminated by the system's OpenSSL. Off unless `listen`,
/// `certificate` and `private_key` are set; the plain listener (`server.listen`) keeps running
/// beside it (for example HTTPS on 0.0.0.0:8443 for the outside, plain on 127.0.0.1:8080 for the pod).
public struct TLSConfig: Sendable, Decodable {
    public enum MinimumVersion: String, Sendable, Decodable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public var listen: ListenAddress?
    /// PEM certificate chain (leaf first).
    public var certificate = ""
    /// PEM private key matching the certificate (unencrypted).
    public var privateKey = ""
    /// PEM CA bundle: when set, clients must present a certificate it signed (mTLS).
    public var clientCA = ""
    public var minVersion = MinimumVersion.tls12
    /// TLS 1.2 cipher list in OpenSSL syntax; empty means the built-in modern list
    /// (ECDHE with AES-GCM or ChaCha20-Poly1305). TLS 1.3 suites are always the three standard AEADs.
    public var ciphers = ""
    public var handshakeTimeout = ConfigDuration.seconds(10)
    /// How often the certificate and key files are checked for a change (rotation by cert-manager
    /// or a Kubernetes Secret update); SIGHUP reloads at once.
    public var reloadInterval = ConfigDuration.seconds(10)

    public init() {}

    public var isEnabled: Bool { listen != nil }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, certificate, ciphers
        case privateKey = "private_key"
        case clientCA = "client_ca"
        case minVersion = "min_version"
        case handshakeTimeout = "handshake_timeout"
        case reloadInterval = "reload_interval"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = TLSConfig()
        listen = try container.decodeIfPresent(ListenAddress.self, forKey: .listen)
        certificate = try container.decode(.certificate, default: defaults.certificate)
        privateKey = try container.decode(.privateKey, default: defaults.privateKey)
        clientCA = try container.decode(.clientCA, default: defaults.clientCA)
        if let text = try container.decodeIfPresent(String.self, forKey: .minVersion) {
            guard let version = MinimumVersion(rawValue: text) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath + [CodingKeys.minVersion]), "'\(text)' is not one of: 1.2, 1.3")
            }
            minVersion = version
        }
        ciphers = try container.decode(.ciphers, default: defaults.ciphers)
        handshakeTimeout = try container.decode(.handshakeTimeout, default: defaults.handshakeTimeout)
        reloadInterval = try container.decode(.reloadInterval, default: defaults.reloadInterval)
    }

    func validate() -> [ConfigError] {
        var problems: [ConfigError] = []
        let anySet = listen != nil || !certificate.isEmpty || !privateKey.isEmpty || !clientCA.isEmpty
        if anySet {
            if listen == nil { problems.append(ConfigError(keyPath: "server.tls.listen", "required when TLS is configured")) }
            if certificate.isEmpty { problems.append(ConfigError(keyPath: "server.tls.certificate", "required when TLS is configured")) }
            if privateKey.isEmpty { problems.append(ConfigError(keyPath: "server.tls.private_key", "required when TLS is configured")) }
        }
        for (key, value) in [("handshake_timeout", handshakeTimeout), ("reload_interval", reloadInterval)] where value.nanoseconds <= 0 {
            problems.append(ConfigError(keyPath: "server.tls.\(key)", "must be greater than 0"))
        }
        return problems
    }
}
