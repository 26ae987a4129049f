@_spi(CustomByteBufferAllocator) import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `ByteBufferAllocator` over malloc that counts the buffers it makes and grows: how the
/// tests see whether the TLS handlers allocated or reused storage (an address compare cannot
/// tell: malloc hands a freed block straight back). One process-wide count, so the suites using
/// it are serialized.
enum CountingAllocator {
    private static let count = Atomic<Int>(0)

    static let allocator = ByteBufferAllocator(
        allocate: { size in
            CountingAllocator.count.add(1, ordering: .relaxed)
            return malloc(size)
        },
        reallocate: { pointer, _, newSize in
            CountingAllocator.count.add(1, ordering: .relaxed)
            return realloc(pointer, newSize)
        },
        deallocate: { pointer in free(pointer) },
        copy: { destination, source, count in destination.copyMemory(from: source, byteCount: count) }
    )

    /// Allocations and reallocations made through `allocator` while `body` ran.
    static func allocations(during body: () throws -> Void) rethrows -> Int {
        let before = count.load(ordering: .relaxed)
        try body()
        return count.load(ordering: .relaxed) - before
    }
}
