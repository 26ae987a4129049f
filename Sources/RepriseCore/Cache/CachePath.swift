/// Path normalization for cache scope and cacheable-path matching.
///
/// `/v1/chat/completions`, `/chat/completions`, `/chat/completions/` and `//v1//chat/completions`
/// are the same route: repeated `/` collapse, a trailing `/` is dropped, one leading `/v1` segment
/// is dropped. The query string is *not* part of the normalized path (`queryString(of:)` gives it;
/// the key builder puts it in the key as its own field, verbatim).
public enum CachePath {
    /// The normalized path of a request target (`/v1/chat/completions?x=1` → `/chat/completions`).
    public static func normalize<Target: StringProtocol>(_ target: Target) -> String {
        var path = Substring(target)
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.first == "v1" { segments.removeFirst() }
        return "/" + segments.joined(separator: "/")
    }

    /// The raw query string of a request target, without `?` (empty when there is none).
    public static func queryString<Target: StringProtocol>(of target: Target) -> Substring {
        let target = Substring(target)
        guard let mark = target.firstIndex(of: "?") else { return "" }
        let afterMark = target[target.index(after: mark)...]
        if let hash = afterMark.firstIndex(of: "#") { return afterMark[..<hash] }
        return afterMark
    }

    /// Routes that generate text (their absent `temperature` counts as the upstream default 1).
    public static func isGeneration(normalizedPath: String) -> Bool {
        normalizedPath != "/embeddings"
    }
}

/// The configured set of cacheable paths (`cache.paths`); every other path is passed through
/// and counted as BYPASS.
public struct CacheablePaths: Sendable, Equatable {
    /// Chat completions, completions and embeddings.
    public static let defaultPaths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]

    /// Normalized forms of the configured paths.
    public let normalizedPaths: Set<String>

    public init(_ paths: [String] = CacheablePaths.defaultPaths) {
        normalizedPaths = Set(paths.map { CachePath.normalize($0) })
    }

    /// Whether a request target (path with optional query) is cacheable.
    public func matches<Target: StringProtocol>(_ target: Target) -> Bool {
        normalizedPaths.contains(CachePath.normalize(target))
    }
}
