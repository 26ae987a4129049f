import Foundation
import Yams

/// `auth.keys_file`: a YAML list of keys shaped like `auth.keys` (a mounted Kubernetes Secret).
public enum ClientKeyFile {
    /// The keys of the file, validated; problems name `auth.keys_file[N]` and the file.
    public static func load(path: String) throws(ConfigFileError) -> [ClientKeyConfig] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFileError(file: path, problems: [ConfigError(keyPath: "auth.keys_file", "cannot read the file")])
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(yaml: String, file: String) throws(ConfigFileError) -> [ClientKeyConfig] {
        let keys: [ClientKeyConfig]
        do {
            keys = try YAMLDecoder().decode([ClientKeyConfig].self, from: yaml)
        } catch let error as ConfigError {
            throw ConfigFileError(file: file, problems: [ConfigError(keyPath: "auth.keys_file" + error.keyPath, error.message)])
        } catch {
            // Decoding errors may quote the document, which holds hashes only; still, say little.
            throw ConfigFileError(file: file, problems: [ConfigError(keyPath: "auth.keys_file", "must be a YAML list of {name, key_sha256, ...}: \(Self.summary(error))")])
        }
        let problems = keys.enumerated().flatMap { $0.element.validate(keyPath: "auth.keys_file[\($0.offset)]") }
            + AuthConfig.duplicates(in: keys, keyPath: "auth.keys_file")
        guard problems.isEmpty else { throw ConfigFileError(file: file, problems: problems) }
        return keys
    }

    private static func summary(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "not valid YAML" }
        switch decoding {
        case .keyNotFound(let key, let context): return "\(configKeyPath(context.codingPath + [key])): required key is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(configKeyPath(context.codingPath)): wrong type"
        @unknown default: return "not readable"
        }
    }
}
