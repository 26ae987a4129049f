import RepriseCrypto
import Foundation

/// Where a cache encryption key comes from: `file:/path` or `env:NAME`, never the configuration
/// file itself (a config file is shared, printed and committed; a key must not be).
///
/// The key is 32 bytes: the file holds them raw, or as 64 hex digits, or as base64 (surrounding
/// whitespace ignored); an environment variable holds hex or base64.
public enum EncryptionKeySource: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case environment(String)

    public init(parsing text: String) throws(EncryptionKeyError) {
        if text.hasPrefix("file:"), text.count > 5 {
            self = .file(String(text.dropFirst(5)))
        } else if text.hasPrefix("env:"), text.count > 4 {
            self = .environment(String(text.dropFirst(4)))
        } else {
            throw .notAReference
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file:\(path)"
        case .environment(let name): "env:\(name)"
        }
    }

    /// The 32 key bytes.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(EncryptionKeyError) -> [UInt8] {
        let raw: [UInt8]
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
            raw = Array(data)
            if raw.count == 32 { return raw }
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { throw .unsetVariable(name) }
            raw = Array(value.utf8)
        }
        let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.utf8.count == 64, let bytes = Hex.decode(text.utf8) { return bytes }
        if let data = Data(base64Encoded: text), data.count == 32 { return Array(data) }
        throw .wrongLength(description)
    }
}

/// Why an encryption key could not be had. Messages never contain key material.
public enum EncryptionKeyError: Error, Equatable, CustomStringConvertible {
    case notAReference
    case unreadable(String)
    case unsetVariable(String)
    case wrongLength(String)

    public var description: String {
        switch self {
        case .notAReference: "must be 'file:/path' or 'env:NAME' (a key never goes into the configuration file itself)"
        case .unreadable(let path): "cannot read the key file \(path)"
        case .unsetVariable(let name): "the environment variable \(name) is not set"
        case .wrongLength(let source): "\(source) does not hold a 32-byte key (32 raw bytes, 64 hex digits, or base64 of 32 bytes)"
        }
    }
}
