/// Remembers recent keys by the exact bytes they were computed from, so a repeated request (the
/// whole point of a cache) skips canonicalization and the digest.
///
/// A key is a pure function of the builder's settings, the scope and the body bytes; a slot is
/// only used when its scope and body compare equal, byte for byte, so a remembered key is always
/// the key `CacheKeyBuilder` would compute. Direct-mapped (a body's hash picks its one slot; a
/// newer body takes the slot over) and bounded in slots and in the body size it keeps, so its
/// memory is bounded too: at most `slotCount × maxBodyBytes` bytes of bodies.
///
/// Not thread-safe: owned by one `CacheKeyBuilder`.
struct CacheKeyMemo {
    /// A class: a lookup takes the slot with one retain instead of copying (and retaining)
    /// each of its strings, its body and its result.
    private final class Slot {
        let hash: Int
        let scope: CacheScope
        let body: [UInt8]
        let result: CacheKeyResult

        init(hash: Int, scope: CacheScope, body: [UInt8], result: CacheKeyResult) {
            self.hash = hash
            self.scope = scope
            self.body = body
            self.result = result
        }
    }

    /// Bodies larger than this are not remembered (comparing them would cost more than the key
    /// saves less often, and they would dominate the memo's memory).
    let maxBodyBytes: Int
    private var slots: [Slot?]

    /// - Parameters:
    ///   - slotCount: number of remembered keys; 0 disables the memo.
    ///   - maxBodyBytes: largest body remembered.
    init(slotCount: Int, maxBodyBytes: Int) {
        precondition(slotCount >= 0 && maxBodyBytes >= 0, "memo bounds must not be negative")
        self.maxBodyBytes = maxBodyBytes
        self.slots = Array(repeating: nil, count: slotCount)
    }

    var isEnabled: Bool { !slots.isEmpty }

    /// The hash that picks a body's slot (also passed back to `remember`).
    static func hash(_ body: UnsafeRawBufferPointer) -> Int {
        MemoSlotHash.hash(body)
    }

    /// The remembered key of exactly this scope and body, if any.
    func lookup(hash: Int, scope: CacheScope, body: UnsafeRawBufferPointer) -> CacheKeyResult? {
        guard let slot = slots[index(of: hash)], slot.hash == hash, slot.body.count == body.count else {
            return nil
        }
        let sameBody = slot.body.withUnsafeBytes { stored in
            body.isEmpty || memcmp(stored.baseAddress!, body.baseAddress!, body.count) == 0
        }
        guard sameBody, Self.sameBytes(slot.scope, scope) else { return nil }
        return slot.result
    }

    /// Byte equality of every scope field. Not `==`: Swift compares strings by canonical
    /// equivalence, so "é" (U+00E9) equals "e" + U+0301, while the key frames the UTF-8 bytes —
    /// two such namespaces have different keys and must never share a memo slot.
    private static func sameBytes(_ a: CacheScope, _ b: CacheScope) -> Bool {
        a.namespace.hasSameUTF8(as: b.namespace)
            && a.normalizedPath.hasSameUTF8(as: b.normalizedPath)
            && a.query.hasSameUTF8(as: b.query)
            && a.route.hasSameUTF8(as: b.route)
            && a.variant.hasSameUTF8(as: b.variant)
            && a.method.hasSameUTF8(as: b.method)
    }

    mutating func remember(hash: Int, scope: CacheScope, body: UnsafeRawBufferPointer, result: CacheKeyResult) {
        guard isEnabled, body.count <= maxBodyBytes else { return }
        slots[index(of: hash)] = Slot(hash: hash, scope: scope, body: Array(body), result: result)
    }

    /// The slot a body would use (the hash is seeded per process: tests ask instead of
    /// assuming).
    func slotIndex(of body: UnsafeRawBufferPointer) -> Int {
        index(of: Self.hash(body))
    }

    private func index(of hash: Int) -> Int {
        Int(UInt(bitPattern: hash) % UInt(slots.count))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StringProtocol {
    /// Byte equality of the UTF-8 forms (String `==` is canonical equivalence). One `memcmp`
    /// when both are contiguous, as native strings are: comparing through the UTF-8 views one
    /// element at a time was 2.5% of a cache hit.
    func hasSameUTF8(as other: some StringProtocol) -> Bool {
        let count = utf8.count
        guard count == other.utf8.count else { return false }
        let compared = utf8.withContiguousStorageIfAvailable { mine in
            other.utf8.withContiguousStorageIfAvailable { theirs in
                count == 0 || memcmp(mine.baseAddress!, theirs.baseAddress!, count) == 0
            }
        }
        if let compared = compared ?? nil { return compared }
        return utf8.elementsEqual(other.utf8)
    }
}
