import Foundation
import Synchronization

/// Counters of a `MemoryCache`.
public struct MemoryCacheStats: Sendable, Equatable {
    public var count: Int
    public var bytes: Int
    /// Entries removed to stay under `maxBytes`.
    public var evictions: Int
    /// Entries removed because their TTL ran out.
    public var expirations: Int

    public init(count: Int, bytes: Int, evictions: Int, expirations: Int) {
        self.count = count
        self.bytes = bytes
        self.evictions = evictions
        self.expirations = expirations
    }
}

/// The L1 cache: LRU within a byte budget, per-entry size limit, TTL checked on `get`.
///
/// O(1) `get`/`set`/`remove`: a dictionary from key to slot plus an intrusive doubly linked list
/// threaded through an array of slots (freed slots are reused through a free list), so the hot
/// path allocates nothing beyond the dictionary's own storage. `removeAll(namespace:)` is O(n)
/// (purge is rare). Thread-safe: one `Mutex` around the state; the value is returned copied
/// (for `CacheEntry`, arrays are shared copy-on-write, so no bytes are copied).
///
/// `get` and `set` are inlinable, and so is the state they touch: the proxy's L1 is a
/// `MemoryCache<CacheKey, CachedAnswer>` instantiated in another module, where unspecialized
/// generic code looked up type metadata and hashed through witness tables on every hit.
public final class MemoryCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// `cache.memory.max_bytes`.
    public let maxBytes: Int
    /// Per-entry limit; larger values are not stored.
    public let maxEntryBytes: Int
    @usableFromInline let now: @Sendable () -> Int64
    @usableFromInline let state: Mutex<State>

    /// - Parameter now: clock in Unix milliseconds (injectable for tests).
    public init(maxBytes: Int, maxEntryBytes: Int, now: @escaping @Sendable () -> Int64 = MemoryCache.wallClockMs) {
        self.maxBytes = maxBytes
        self.maxEntryBytes = min(maxEntryBytes, maxBytes)
        self.now = now
        self.state = Mutex(State())
    }

    @Sendable public static func wallClockMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The value for `key` if present and not expired (an expired one is removed); marks it most
    /// recently used.
    @inlinable
    public func get(_ key: Key) -> Value? {
        let nowMs = now()
        return state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            if state.slots[slot].expiresAtMs <= nowMs {
                state.remove(slot: slot)
                state.expirations += 1
                return nil
            }
            state.moveToFront(slot)
            return state.slots[slot].value
        }
    }

    /// Stores `value` (replacing any previous value of `key`), evicting least recently used
    /// entries until the budget holds. Returns false (and stores nothing, removing an older
    /// value of the key) when `cost` exceeds `maxEntryBytes` or `ttlMs` is not positive.
    @inlinable @discardableResult
    public func set(_ key: Key, namespace: String, value: Value, cost: Int, ttlMs: Int64) -> Bool {
        let nowMs = now()
        return state.withLock { state in
            if let existing = state.index[key] { state.remove(slot: existing) }
            guard cost <= maxEntryBytes, cost >= 0, ttlMs > 0 else { return false }
            while state.bytes + cost > maxBytes, state.tail != State.none {
                state.remove(slot: state.tail)
                state.evictions += 1
            }
            state.insertAtFront(Slot(key: key, namespace: namespace, value: value, cost: cost,
                                     expiresAtMs: nowMs + ttlMs, previous: State.none, next: State.none))
            return true
        }
    }

    @discardableResult
    public func remove(_ key: Key) -> Bool {
        state.withLock { state in
            guard let slot = state.index[key] else { return false }
            state.remove(slot: slot)
            return true
        }
    }

    /// Purges one namespace; returns how many entries went. O(n).
    @discardableResult
    public func removeAll(namespace: String) -> Int {
        state.withLock { state in
            var removed = 0
            var slot = state.head
            while slot != State.none {
                let next = state.slots[slot].next
                if state.slots[slot].namespace == namespace {
                    state.remove(slot: slot)
                    removed += 1
                }
                slot = next
            }
            return removed
        }
    }

    /// Purges everything; returns how many entries went.
    @discardableResult
    public func removeAll() -> Int {
        state.withLock { state in
            let count = state.index.count
            let evictions = state.evictions, expirations = state.expirations
            state = State()
            state.evictions = evictions
            state.expirations = expirations
            return count
        }
    }

    public var stats: MemoryCacheStats {
        state.withLock { MemoryCacheStats(count: $0.index.count, bytes: $0.bytes, evictions: $0.evictions, expirations: $0.expirations) }
    }

    /// Keys from most to least recently used (for tests and debugging; O(n)).
    public var keysByRecency: [Key] {
        state.withLock { state in
            var keys: [Key] = []
            var slot = state.head
            while slot != State.none {
                keys.append(state.slots[slot].key!)
                slot = state.slots[slot].next
            }
            return keys
        }
    }

    @usableFromInline struct Slot {
        /// nil while the slot is free.
        @usableFromInline var key: Key?
        @usableFromInline var namespace: String
        @usableFromInline var value: Value?
        @usableFromInline var cost: Int
        @usableFromInline var expiresAtMs: Int64
        @usableFromInline var previous: Int
        @usableFromInline var next: Int

        @inlinable init(key: Key?, namespace: String, value: Value?, cost: Int, expiresAtMs: Int64, previous: Int, next: Int) {
            self.key = key
            self.namespace = namespace
            self.value = value
            self.cost = cost
            self.expiresAtMs = expiresAtMs
            self.previous = previous
            self.next = next
        }
    }

    @usableFromInline struct State {
        @usableFromInline static var none: Int { -1 }
        @usableFromInline var slots: [Slot] = []
        @usableFromInline var freeSlots: [Int] = []
        @usableFromInline var index: [Key: Int] = [:]
        @usableFromInline var head = State.none
        @usableFromInline var tail = State.none
        @usableFromInline var bytes = 0
        @usableFromInline var evictions = 0
        @usableFromInline var expirations = 0

        @usableFromInline init() {}

        @inlinable mutating func insertAtFront(_ slot: Slot) {
            let position: Int
            if let free = freeSlots.popLast() {
                position = free
                slots[position] = slot
            } else {
                position = slots.count
                slots.append(slot)
            }
            index[slot.key!] = position
            bytes += slot.cost
            link(position)
        }

        @inlinable mutating func remove(slot position: Int) {
            unlink(position)
            index[slots[position].key!] = nil
            bytes -= slots[position].cost
            // Drop the value now so its memory goes with the entry, and keep the slot for reuse.
            slots[position].value = nil
            slots[position].key = nil
            slots[position].namespace = ""
            freeSlots.append(position)
        }

        @inlinable mutating func moveToFront(_ position: Int) {
            guard head != position else { return }
            unlink(position)
            link(position)
        }

        @inlinable mutating func link(_ position: Int) {
            slots[position].previous = State.none
            slots[position].next = head
            if head != State.none { slots[head].previous = position }
            head = position
            if tail == State.none { tail = position }
        }

        @inlinable mutating func unlink(_ position: Int) {
            let previous = slots[position].previous, next = slots[position].next
            if previous != State.none { slots[previous].next = next } else { head = next }
            if next != State.none { slots[next].previous = previous } else { tail = previous }
            slots[position].previous = State.none
            slots[position].next = State.none
        }
    }
}
