import Foundation
import Yams

/// Reads a YAML configuration file into a validated `RepriseConfig`.
///
/// `${NAME}` in a scalar is replaced by the environment variable NAME (secrets stay out of the
/// file); `${NAME:-fallback}` gives a fallback; `$${` writes a literal `${`. A variable that is
/// unset and has no fallback is an error naming the key.
public enum ConfigLoader {
    public static func load(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RepriseConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(file: path, problems: [ConfigError(keyPath: "", "cannot read the file: \(error.localizedDescription)")])
        }
        do {
            return try parse(yaml: text, environment: environment)
        } catch let error as ConfigFileError {
            throw ConfigFileError(file: path, problems: error.problems)
        }
    }

    /// Parses and validates YAML text; errors carry `<inline>` as the file name.
    public static func parse(yaml text: String, environment: [String: String] = [:]) throws -> RepriseConfig {
        func fail(_ problems: [ConfigError]) -> ConfigFileError { ConfigFileError(file: "<inline>", problems: problems) }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw fail([ConfigError(keyPath: "", "not valid YAML: \(error)")])
        }
        guard var node = root else { return RepriseConfig() }  // an empty file means all defaults
        guard node.mapping != nil else {
            throw fail([ConfigError(keyPath: "", "the top level must be a mapping of sections (server:, upstream:, ...)")])
        }
        var problems: [ConfigError] = []
        node = interpolate(node, path: [], environment: environment, problems: &problems)
        guard problems.isEmpty else { throw fail(problems) }
        let config: RepriseConfig
        do {
            config = try YAMLDecoder().decode(RepriseConfig.self, from: node)
        } catch let error as ConfigError {
            throw fail([error])
        } catch let error as DecodingError {
            throw fail([describe(error)])
        } catch {
            throw fail([ConfigError(keyPath: "", "\(error)")])
        }
        let invalid = config.validate()
        guard invalid.isEmpty else { throw fail(invalid) }
        return config
    }

    private static func describe(_ error: DecodingError) -> ConfigError {
        switch error {
        case .typeMismatch(let type, let context):
            return ConfigError(keyPath: configKeyPath(context.codingPath), "expected \(typeName(type)): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return ConfigError(keyPath: configKeyPath(context.codingPath), "expected \(typeName(type)), found nothing")
        case .keyNotFound(let key, let context):
            return ConfigError(keyPath: configKeyPath(context.codingPath + [key]), "required key is missing")
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? ConfigError { return underlying }
            return ConfigError(keyPath: configKeyPath(context.codingPath), context.debugDescription)
        @unknown default:
            return ConfigError(keyPath: "", "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }

    private static func interpolate(_ node: Node, path: [String], environment: [String: String], problems: inout [ConfigError]) -> Node {
        switch node {
        case .scalar(var scalar):
            guard scalar.string.contains("$") else { return node }
            switch EnvironmentInterpolation.expand(scalar.string, environment: environment) {
            case .success(let expanded):
                scalar.string = expanded
                // A value that came from the environment is data, never YAML syntax: keep
                // the resolved tag so `${PORT}` still decodes as a number where one is expected.
                return .scalar(scalar)
            case .failure(let reason):
                problems.append(ConfigError(keyPath: path.joined(separator: "."), reason.description))
                return node
            }
        case .mapping(var mapping):
            for (key, value) in mapping {
                let keyName = key.string ?? "?"
                mapping[key] = interpolate(value, path: path + [keyName], environment: environment, problems: &problems)
            }
            return .mapping(mapping)
        case .sequence(var sequence):
            for index in sequence.indices {
                var itemPath = path
                itemPath[itemPath.count - 1] += "[\(index)]"
                sequence[index] = interpolate(sequence[index], path: itemPath, environment: environment, problems: &problems)
            }
            return .sequence(sequence)
        case .alias:
            return node
        }
    }
}

/// `${NAME}`, `${NAME:-fallback}` and `$${` (a literal `${`) inside one string.
public enum EnvironmentInterpolation {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public static func expand(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        var output = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.hasPrefix("${") {
                output += "${"
                rest = afterDollar.dropFirst(2)
                continue
            }
            guard afterDollar.hasPrefix("{") else {
                output += "$"
                rest = afterDollar
                continue
            }
            guard let close = afterDollar.firstIndex(of: "}") else {
                return .failure(Failure(description: "unclosed ${ in '\(text)'"))
            }
            let expression = afterDollar[afterDollar.index(after: afterDollar.startIndex)..<close]
            let name: Substring
            let fallback: Substring?
            if let separator = expression.range(of: ":-") {
                name = expression[..<separator.lowerBound]
                fallback = expression[separator.upperBound...]
            } else {
                name = expression
                fallback = nil
            }
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else {
                return .failure(Failure(description: "'${\(expression)}' is not a valid environment variable reference"))
            }
            if let value = environment[String(name)] {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                return .failure(Failure(description: "environment variable \(name) is not set (use ${\(name):-default} for a fallback)"))
            }
            rest = afterDollar[afterDollar.index(after: close)...]
        }
        output += rest
        return .success(output)
    }
}
