/// A configuration problem, named by the key path it concerns (`server.listen`) so the message
/// points at the line to fix.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Dotted key path, e.g. `server.max_body_bytes`; empty for the document itself.
    public var keyPath: String
    public var message: String

    public init(keyPath: String, _ message: String) {
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? message : "\(keyPath): \(message)"
    }
}

/// All problems of one configuration file, reported together so one run shows every mistake.
public struct ConfigFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var problems: [ConfigError]

    public init(file: String, problems: [ConfigError]) {
        self.file = file
        self.problems = problems
    }

    public var description: String {
        let lines = problems.map { "  \($0)" }.joined(separator: "\n")
        return "invalid configuration in \(file):\n\(lines)"
    }
}

/// Turns a coding path into the dotted key path used in messages (`upstream.timeouts.connect`,
/// `cache.paths[2]`).
public func configKeyPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return path
}
