/// The configured `GET` paths whose answers are cached (`cache.get_paths`): model lists and
/// model objects by default, which SDKs and frameworks fetch at every start.
///
/// A pattern is a path whose segments are literal or a `{name}` placeholder matching exactly one
/// non-empty segment (`/v1/models/{id}` matches `/v1/models/gpt-4o`, not `/v1/models` nor
/// `/v1/models/a/b`). Patterns and requests are compared in normalized form (`CachePath`), so
/// `/models/{id}` ≡ `/v1/models/{id}`.
public struct CacheableGetPaths: Sendable, Equatable {
    public static let defaultPaths = ["/v1/models", "/v1/models/{id}"]

    private enum Segment: Sendable, Equatable {
        case literal(Substring)
        case placeholder
    }

    private let patterns: [[Segment]]

    /// No `GET` path is cached.
    public static let none = CacheableGetPaths(patterns: [])

    private init(patterns: [[Segment]]) {
        self.patterns = patterns
    }

    /// Why a configured pattern is refused (the config reports it under its key).
    public struct PatternError: Error, Equatable, CustomStringConvertible {
        public let pattern: String
        public let reason: String
        public var description: String { "'\(pattern)' \(reason)" }
    }

    /// Parses the patterns; a pattern must start with `/`, and a `{`/`}` may only appear as a
    /// whole `{name}` segment.
    public init(_ paths: [String] = CacheableGetPaths.defaultPaths) throws(PatternError) {
        var patterns: [[Segment]] = []
        for path in paths {
            guard path.hasPrefix("/") else { throw PatternError(pattern: path, reason: "must start with /") }
            guard !path.contains("?"), !path.contains("#") else { throw PatternError(pattern: path, reason: "must not contain a query or fragment") }
            var segments: [Segment] = []
            for segment in CachePath.normalize(path).split(separator: "/") {
                let isPlaceholder = segment.count > 2 && segment.first == "{" && segment.last == "}"
                let inner = isPlaceholder ? segment.dropFirst().dropLast() : segment
                guard !inner.contains("{"), !inner.contains("}") else {
                    throw PatternError(pattern: path, reason: "may use { } only as a whole {name} segment")
                }
                segments.append(isPlaceholder ? .placeholder : .literal(segment))
            }
            patterns.append(segments)
        }
        self.patterns = patterns
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// Whether an already normalized path matches one of the patterns.
    public func contains(normalizedPath: String) -> Bool {
        guard !patterns.isEmpty else { return false }
        let segments = normalizedPath.split(separator: "/", omittingEmptySubsequences: true)
        return patterns.contains { pattern in
            pattern.count == segments.count && zip(pattern, segments).allSatisfy { expected, actual in
                switch expected {
                case .placeholder: return true
                case .literal(let literal): return literal == actual
                }
            }
        }
    }
}
