import NIOCore
import NIOEmbedded
import RepriseTLS
import Testing

/// The BIO over NIO buffers, seen from the pipeline: one flush's ciphertext leaves in one
/// buffer whose storage is reused for the next answer once the channel let it go (and not
/// while the channel still holds it), and a received buffer is not kept once OpenSSL read it.
@Suite("TLS ciphertext buffers")
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
        let pair = try InMemoryTLSPair.connected(certificates)
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

        answer("second", on: pair.server)
        let second = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
        #expect(storageAddress(second) == firstStorage, "the released storage was not reused")
        try pair.client.writeInbound(second)
        #expect(pair.clientReceived().hasSuffix("second"))
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
