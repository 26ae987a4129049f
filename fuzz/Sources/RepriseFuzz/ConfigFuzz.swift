import RepriseCore

/// The config loader on arbitrary YAML text (with `${VAR}` interpolation from a small
/// environment): it throws or returns, never traps.
enum ConfigFuzz {
    static let environment = ["REPRISE_FUZZ": "1h", "EMPTY": "", "URL": "http://127.0.0.1:1"]

    static func run(_ bytes: [UInt8]) {
        _ = try? ConfigLoader.parse(yaml: String(decoding: bytes, as: UTF8.self), environment: environment)
    }
}
