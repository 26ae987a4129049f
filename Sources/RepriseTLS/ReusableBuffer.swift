import NIOCore

/// One buffer whose storage is written into again once everyone it was handed to let it go:
/// the plaintext of the last record, the ciphertext of the last flush. On a hit answered at once
/// the pipeline has released it before the next record arrives, so steady traffic allocates
/// nothing here; a buffer still held (a request body kept, a write the socket has not taken)
/// is left alone and a new one made, so no one's bytes are ever overwritten (copy-on-write
/// checked, not assumed: `modifyIfUniquelyOwned`).
struct ReusableBuffer {
    /// Larger storage is not kept for an idle connection.
    let maximumKeptCapacity: Int
    private var kept: ByteBuffer?

    init(maximumKeptCapacity: Int) {
        self.maximumKeptCapacity = maximumKeptCapacity
    }

    /// An empty buffer of at least `minimumCapacity` bytes: the kept storage when no one else
    /// holds it and it is large enough, else a new allocation of that size.
    mutating func take(minimumCapacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        if var buffer = kept {
            kept = nil  // `buffer` is now the only reference here
            if buffer.capacity >= minimumCapacity, buffer.modifyIfUniquelyOwned({ $0.clear() }) != nil {
                return buffer
            }
        }
        return allocator.buffer(capacity: minimumCapacity)
    }

    /// Keeps `buffer`'s storage (shared with whoever `buffer` is handed to) for a later `take`.
    mutating func keep(_ buffer: ByteBuffer) {
        kept = buffer.capacity <= maximumKeptCapacity ? buffer : nil
    }
}
