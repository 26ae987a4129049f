import RepriseCrypto
import COpenSSL
import NIOCore

/// The one BIO an `SSL` reads ciphertext from and writes ciphertext to, over NIO buffers: what
/// the socket delivered is held as the `ByteBuffer` it came in (OpenSSL copies each record out
/// of it into its own record buffer, where it decrypts), and what OpenSSL encrypted is appended
/// to one outbound `ByteBuffer` that goes to the channel as it is. Two memory BIOs
/// (`BIO_s_mem`) cost a copy more each way: socket buffer → BIO, and BIO → a new buffer for the
/// channel (with an allocation per flush).
///
/// The outbound storage is reused (`ReusableBuffer`): `takeOutbound` hands the buffer to the
/// channel and keeps a reference, and the next write starts over in the same storage once the
/// channel released it after the socket write (as on a hit answered at once), or in a new one
/// while the channel still holds it. One that grew past `preservedOutboundCapacity` (a large answer) is not kept for
/// the idle connection.
///
/// Ownership: this object owns one reference to the `BIO`; `SSL_set_bio` hands the `SSL` the
/// other. The `BIO` points back at this object unretained, so the owner (`TLSConnection`) must
/// free its `SSL` before releasing this object; `deinit` detaches the pointer before freeing
/// its reference, so a late call finds no object and fails instead of touching freed memory.
/// One event loop only, like the connection.
final class ByteBufferBIO {
    /// Outbound buffers up to this capacity stay with the connection between writes: one full
    /// record (16 KiB of plaintext and its overhead) rounds up to 32 KiB.
    static let preservedOutboundCapacity = 32 * 1024

    let bio: OpaquePointer
    /// Makes the outbound buffers: the channel's, once the handler is added.
    var allocator = ByteBufferAllocator()
    /// Ciphertext received and not yet read by OpenSSL; nil once read (the socket's receive
    /// buffer is then free for NIO to reuse).
    private var inbound: ByteBuffer?
    /// Ciphertext OpenSSL wrote and not yet taken; nil once taken.
    private var outbound: ByteBuffer?
    /// The storage of the ciphertext last taken, for the next write.
    private var spent = ReusableBuffer(maximumKeptCapacity: ByteBufferBIO.preservedOutboundCapacity)

    init() throws(TLSConnectionError) {
        OpenSSLErrorStack.clear()
        guard let method = Self.method, let bio = BIO_new(method) else {
            throw TLSConnectionError(.connectionSetupFailed)
        }
        self.bio = bio
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
    }

    deinit {
        BIO_set_data(bio, nil)
        BIO_free(bio)
    }

    /// The callbacks, registered once per process (a `BIO_METHOD` is immutable once set up and
    /// shared by every `BIO` made from it). nil if OpenSSL could not allocate it.
    nonisolated(unsafe) private static let method: OpaquePointer? = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "reprise ByteBuffer BIO") else { return nil }
        guard BIO_meth_set_write(method, byteBufferBIOWrite) == 1,
              BIO_meth_set_read(method, byteBufferBIORead) == 1,
              BIO_meth_set_ctrl(method, byteBufferBIOControl) == 1
        else {
            BIO_meth_free(method)
            return nil
        }
        return method
    }()

    // MARK: - The network's side

    /// Ciphertext received and not yet read by OpenSSL.
    var inboundByteCount: Int { inbound?.readableBytes ?? 0 }

    /// Ciphertext OpenSSL wrote and not yet taken for the channel.
    var outboundByteCount: Int { outbound?.readableBytes ?? 0 }

    /// Holds one socket read for OpenSSL. The handler reads until OpenSSL wants more, so the
    /// previous buffer is normally consumed; if not, the new bytes are appended to it.
    func receive(_ ciphertext: ByteBuffer) {
        guard ciphertext.readableBytes > 0 else { return }
        if var held = inbound {
            inbound = nil  // the only reference again: append in place when there is room
            var more = ciphertext
            held.writeBuffer(&more)
            inbound = held
        } else {
            inbound = ciphertext
        }
    }

    /// The ciphertext written since the last call, or nil if there is none.
    func takeOutbound() -> ByteBuffer? {
        guard let ciphertext = outbound else { return nil }
        outbound = nil
        spent.keep(ciphertext)
        return ciphertext
    }

    // MARK: - OpenSSL's side (through the callbacks)

    fileprivate func read(into destination: UnsafeMutableRawBufferPointer) -> Int32 {
        guard var buffer = inbound else {
            reprise_BIO_set_retry_read(bio)  // no data yet, not end of file
            return -1
        }
        inbound = nil
        let count = min(destination.count, buffer.readableBytes)
        buffer.readWithUnsafeReadableBytes { source in
            destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
            return count
        }
        if buffer.readableBytes > 0 { inbound = buffer }
        return Int32(count)
    }

    fileprivate func write(_ source: UnsafeRawBufferPointer) -> Int32 {
        // Several records of one flush go into the same buffer (growing it if needed).
        var buffer = outbound ?? spent.take(minimumCapacity: source.count, allocator: allocator)
        outbound = nil  // `buffer` the only reference: appended in place
        buffer.writeBytes(source)
        outbound = buffer
        return Int32(source.count)
    }
}

// The callbacks OpenSSL calls through the `BIO_METHOD`. The `BIO`'s data is the unretained
// `ByteBufferBIO` (nil after its `deinit`: then they fail).

private func byteBufferBIOWrite(bio: OpaquePointer?, data: UnsafePointer<CChar>?, length: Int32) -> Int32 {
    guard let bio, let pointer = BIO_get_data(bio) else { return -1 }
    reprise_BIO_clear_retry_flags(bio)
    guard let data, length > 0 else { return 0 }
    return Unmanaged<ByteBufferBIO>.fromOpaque(pointer)._withUnsafeGuaranteedRef {
        $0.write(UnsafeRawBufferPointer(start: data, count: Int(length)))
    }
}

private func byteBufferBIORead(bio: OpaquePointer?, data: UnsafeMutablePointer<CChar>?, length: Int32) -> Int32 {
    guard let bio, let pointer = BIO_get_data(bio) else { return -1 }
    reprise_BIO_clear_retry_flags(bio)
    guard let data, length > 0 else { return 0 }
    return Unmanaged<ByteBufferBIO>.fromOpaque(pointer)._withUnsafeGuaranteedRef {
        $0.read(into: UnsafeMutableRawBufferPointer(start: data, count: Int(length)))
    }
}

/// Answers the controls OpenSSL's record layer sends: flushing always succeeds (the channel
/// flushes), the pending counts are the buffers', ownership follows `BIO_set_close`; anything
/// else is unsupported (0).
private func byteBufferBIOControl(bio: OpaquePointer?, command: Int32, argument: Int, pointer: UnsafeMutableRawPointer?) -> Int {
    guard let bio else { return 0 }
    switch command {
    case BIO_CTRL_FLUSH:
        return 1
    case BIO_CTRL_GET_CLOSE:
        return Int(BIO_get_shutdown(bio))
    case BIO_CTRL_SET_CLOSE:
        BIO_set_shutdown(bio, Int32(argument))
        return 1
    case BIO_CTRL_PENDING, BIO_CTRL_WPENDING:
        guard let data = BIO_get_data(bio) else { return 0 }
        return Unmanaged<ByteBufferBIO>.fromOpaque(data)._withUnsafeGuaranteedRef {
            command == BIO_CTRL_PENDING ? $0.inboundByteCount : $0.outboundByteCount
        }
    default:
        return 0
    }
}
