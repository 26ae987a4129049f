import Foundation

/// Where a secret string comes from (`auth.upstream_key`): `file:/path` or `env:NAME`, never
/// the configuration file itself. The reference is parsed as a cache encryption key's is
/// (`EncryptionKeySource`); what is read differs: any non-empty text, not 32 key bytes.
public struct SecretReference: Sendable, Equatable, CustomStringConvertible {
    public let source: EncryptionKeySource

    public init(parsing text: String) throws(SecretReferenceError) {
        do {
            source = try EncryptionKeySource(parsing: text)
        } catch {
            throw .notAReference
        }
    }

    public var description: String { source.description }

    /// The secret, surrounding whitespace (a file's final newline) removed.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretReferenceError) -> String {
        let text: String
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
            text = String(decoding: data, as: UTF8.self)
        case .environment(let name):
            guard let value = environment[name] else { throw .unsetVariable(name) }
            text = value
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty(description) }
        return trimmed
    }
}

/// Why a secret could not be had. Messages never contain the secret.
public enum SecretReferenceError: Error, Equatable, CustomStringConvertible {
    case notAReference
    case unreadable(String)
    case unsetVariable(String)
    case empty(String)

    public var description: String {
        switch self {
        case .notAReference: "must be 'file:/path' or 'env:NAME' (a secret never goes into the configuration file itself)"
        case .unreadable(let path): "cannot read the file \(path)"
        case .unsetVariable(let name): "the environment variable \(name) is not set"
        case .empty(let source): "\(source) is empty"
        }
    }
}
