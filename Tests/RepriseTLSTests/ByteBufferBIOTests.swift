import NIOCore
import NIOEmbedded
import RepriseTLS
import Testing

/// The buffers around OpenSSL, seen from the pipeline: one flush's ciphertext leaves in one
/// buffer whose storage is reused for the next answer once the channel let it go (and not
/// while the channel still holds it), plaintext likewise, and a received buffer is not kept
/// once OpenSSL read it.
@Suite("TLS ciphertext and plaintext buffers", .serialized)
struct ByteBufferBIOTests {
    /// Where the buffer's storage starts (its bytes before the reader index included).
    private func storageAddress(_ buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } - UInt(buffer.readerIndex)
    }

    /// The server's answer: head and body written apart, flushed once.
    private func answer(_ text: String, on channel: EmbeddedChannel) {
        channel.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: \(text.utf8.count)\r\n\r\n"), promise: nil)
        channel.write(ByteBuffer(string: text), promise: nil)
        channel.flush()
    }

    @Test func theNextAnswerReusesTheCiphertextBufferTheChannelReleased() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates, allocator: CountingAllocator.allocator)
        defer { pair.finish() }

        // The first answer's buffer lives only in here: once out, the "socket" released it.
        let firstStorage = try {
            answer("first", on: pair.server)
            let first = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
            #expect(try pair.server.readOutbound(as: ByteBuffer.self) == nil, "one flush, one ciphertext buffer")
            try pair.client.writeInbound(first)
            return storageAddress(first)
        }()
        #expect(pair.clientReceived().hasSuffix("first"))

        var second: ByteBuffer?
        let allocations = try CountingAllocator.allocations {
            answer("second", on: pair.server)
            second = try pair.server.readOutbound(as: ByteBuffer.self)
        }
        let secondCiphertext = try #require(second)
        #expect(allocations == 0, "the server's TLS handler allocated \(allocations) buffer(s) for the answer")
        #expect(storageAddress(secondCiphertext) == firstStorage)
        try pair.client.writeInbound(secondCiphertext)
        #expect(pair.clientReceived().hasSuffix("second"))
    }

    @Test func theNextRecordIsDecryptedIntoThePlaintextBufferThePipelineReleased() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates, allocator: CountingAllocator.allocator)
        defer { pair.finish() }
        /// The next answer's ciphertext, as the client's socket would read it.
        func nextRecord(_ text: String) throws -> ByteBuffer {
            answer(text, on: pair.server)
            return try #require(try pair.server.readOutbound(as: ByteBuffer.self))
        }

        try pair.client.writeInbound(try nextRecord("first"))
        #expect(String(buffer: try #require(try pair.client.readInbound(as: ByteBuffer.self))).hasSuffix("first"))

        // The first plaintext was released (read and dropped above).
        let record = try nextRecord("second")
        let allocations = try CountingAllocator.allocations { try pair.client.writeInbound(record) }
        #expect(allocations == 0, "the client's TLS handler allocated \(allocations) buffer(s) to decrypt into")
        let second = try #require(try pair.client.readInbound(as: ByteBuffer.self))
        #expect(String(buffer: second).hasSuffix("second"))

        // Still held by the pipeline (`second` is alive): the next record goes elsewhere.
        let third = try nextRecord("third")
        let whileHeld = try CountingAllocator.allocations { try pair.client.writeInbound(third) }
        #expect(whileHeld == 1)
        #expect(String(buffer: try #require(try pair.client.readInbound(as: ByteBuffer.self))).hasSuffix("third"))
        #expect(String(buffer: second).hasSuffix("second"), "a held plaintext buffer was overwritten")
    }

    @Test func ciphertextTheChannelStillHoldsIsNeverOverwritten() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }

        // Three answers before the "socket" took any of them: each buffer keeps its bytes.
        var held: [ByteBuffer] = []
        for text in ["one", "two", "three"] {
            answer(text, on: pair.server)
            held.append(try #require(try pair.server.readOutbound(as: ByteBuffer.self)))
        }
        let bytesWhenTaken = held.map { Array($0.readableBytesView) }
        #expect(Set(held.map(storageAddress)).count == 3, "a held buffer's storage was written into")
        for (buffer, bytes) in zip(held, bytesWhenTaken) {
            #expect(Array(buffer.readableBytesView) == bytes)
            try pair.client.writeInbound(buffer)
        }
        let text = pair.clientReceived()
        #expect(text.contains("one") && text.contains("two") && text.hasSuffix("three"), "\(text)")
    }

    @Test func aReceivedBufferIsNotKeptOnceDecrypted() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }

        answer("kept?", on: pair.server)
        let wire = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
        var received = ByteBuffer(bytes: Array(wire.readableBytesView))  // storage of its own, like a socket read
        let before = storageAddress(received)
        try pair.client.writeInbound(received)
        #expect(pair.clientReceived().hasSuffix("kept?"))
        // Writing in place moves the bytes only if another reference to the storage exists.
        let after = received.withUnsafeMutableReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(after == before, "the TLS handler still holds the received buffer")
    }
}
