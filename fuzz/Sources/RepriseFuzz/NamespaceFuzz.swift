import RepriseCore
import RepriseCrypto

/// The tenant namespace of fuzzed header lists (`name: value` per line) under every mode,
/// directly and through the key builder's memo: never traps; the namespace is at most 64 bytes
/// of `[A-Za-z0-9._-]`, and the key builder's answer equals the mode's own.
enum NamespaceFuzz {
    nonisolated(unsafe) static let hasher = SHA256Hasher()
    nonisolated(unsafe) static let builder = CacheKeyBuilder()

    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var headers: [(name: String, value: String)] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            headers.append((name: String(parts.first ?? ""), value: parts.count > 1 ? String(parts[1]) : ""))
        }
        var modes: [NamespaceMode] = [.credential, .global, .header("x-tenant")]
        if let first = headers.first, let mode = try? NamespaceMode(parsing: "header:" + first.name) { modes.append(mode) }
        for mode in modes {
            let namespace = mode.namespace(hasher: hasher, headers: headers)
            precondition(namespace.utf8.count <= 64, "namespace longer than 64 bytes")
            precondition(namespace.utf8.allSatisfy(isNamespaceByte), "namespace outside [A-Za-z0-9._-]: \(namespace)")
            // Twice: the second answer may come from the builder's memo.
            for _ in 0 ..< 2 {
                precondition(builder.namespace(mode: mode, forEachHeader: { visit in for header in headers { visit(header.name, header.value) } }) == namespace, "the key builder gave another namespace")
            }
        }
    }

    static func isNamespaceByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"),
             UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }
}
