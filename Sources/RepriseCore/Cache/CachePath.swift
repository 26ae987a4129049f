#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Path normalization for cache scope and cacheable-path matching.
///
/// `/v1/chat/completions`, `/chat/completions`, `/chat/completions/` and `//v1//chat/completions`
/// are the same route: repeated `/` collapse, a trailing `/` is dropped, one leading `/v1` segment
/// is dropped. The query string is *not* part of the normalized path (`queryString(of:)` gives it;
/// the key builder puts it in the key as its own field, verbatim).
public enum CachePath {
    /// The normalized path of a request target (`/v1/chat/completions?x=1` → `/chat/completions`).
    public static func normalize<Target: StringProtocol>(_ target: Target) -> String {
        let target = Substring(target)
        if let clean = target.utf8.withContiguousStorageIfAvailable(alreadyNormalPath), let clean {
            return clean
        }
        var path = target
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
        var segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.first == "v1" { segments.removeFirst() }
        return "/" + segments.joined(separator: "/")
    }

    /// The normalized path when it needs no rewriting beyond dropping the query and a leading
    /// `/v1` (no `//`, no trailing `/`): the usual case, checked in one pass over the bytes
    /// instead of splitting and joining strings (it runs on every request).
    private static func alreadyNormalPath(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let slash = UInt8(ascii: "/")
        guard bytes.first == slash else { return nil }
        var pathEnd = bytes.count
        var previous: UInt8 = 0
        for index in 0 ..< bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") {
                pathEnd = index
                break
            }
            if byte == slash && previous == slash { return nil }
            previous = byte
        }
        if pathEnd > 1 && previous == slash { return nil }  // a trailing slash
        let startsWithV1 = pathEnd >= 3 && bytes[1] == UInt8(ascii: "v") && bytes[2] == UInt8(ascii: "1")
        if startsWithV1 && pathEnd == 3 { return "/" }
        let pathStart = startsWithV1 && bytes[3] == slash ? 3 : 0
        let path = UnsafeBufferPointer(rebasing: bytes[pathStart ..< pathEnd])
        // The API's own paths come back as the literals: a path longer than 15 bytes would
        // otherwise be a heap-allocated String on every request.
        for known in wellKnownPaths where hasBytes(known, path) { return known }
        return String(decoding: path, as: UTF8.self)
    }

    /// `literal`'s UTF-8 is exactly `bytes`: lengths first, then one `memcmp` (comparing the
    /// UTF-8 views element by element was ~950 instructions per request).
    private static func hasBytes(_ literal: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard literal.utf8.count == bytes.count else { return false }
        var literal = literal
        return literal.withUTF8 { known in bytes.isEmpty || memcmp(known.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
    }

    /// Normalized paths returned without building a String (literals are never allocated).
    private static let wellKnownPaths: [String] = [
        "/chat/completions", "/completions", "/embeddings", "/responses", "/models", "/moderations",
    ]

    /// The raw query string of a request target, without `?` (empty when there is none).
    public static func queryString<Target: StringProtocol>(of target: Target) -> Substring {
        let target = Substring(target)
        // Byte search: `?` and `#` are ASCII, so their UTF-8 positions are valid indices. Over
        // the contiguous bytes when there are (a native string's are): the generic search through
        // the view cost ~900 instructions per request for a target without a query.
        let hasMark = target.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.isEmpty ? false : memchr(bytes.baseAddress!, Int32(UInt8(ascii: "?")), bytes.count) != nil
        }
        if hasMark == false { return "" }
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        let afterMark = target[target.utf8.index(after: mark)...]
        if let hash = afterMark.utf8.firstIndex(of: UInt8(ascii: "#")) { return afterMark[..<hash] }
        return afterMark
    }

    /// OpenAI's Responses API: its answers carry ids the upstream account can reuse
    /// (`previous_response_id`), so they are never shared beyond one credential.
    public static func isResponses(normalizedPath: String) -> Bool {
        normalizedPath == "/responses"
    }

    /// Routes that generate text (their absent `temperature` counts as the upstream default 1).
    public static func isGeneration(normalizedPath: String) -> Bool {
        normalizedPath != "/embeddings"
    }
}

/// The configured set of cacheable paths (`cache.paths`); every other path is passed through
/// and counted as BYPASS.
public struct CacheablePaths: Sendable, Equatable {
    /// Chat completions, completions, embeddings and the Responses API.
    public static let defaultPaths = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"]

    /// Normalized forms of the configured paths.
    public let normalizedPaths: Set<String>

    /// The same, as a list: a handful of short strings compare faster than the request's path
    /// hashes (checked on every request).
    private let normalizedPathList: [String]

    public init(_ paths: [String] = CacheablePaths.defaultPaths) {
        normalizedPaths = Set(paths.map { CachePath.normalize($0) })
        normalizedPathList = Array(normalizedPaths)
    }

    /// Whether an already normalized path is one of the cacheable ones.
    public func contains(normalizedPath: String) -> Bool {
        let length = normalizedPath.utf8.count
        for path in normalizedPathList where path.utf8.count == length && path == normalizedPath {
            return true
        }
        return false
    }

    /// Whether a request target (path with optional query) is cacheable.
    public func matches<Target: StringProtocol>(_ target: Target) -> Bool {
        contains(normalizedPath: CachePath.normalize(target))
    }
}
