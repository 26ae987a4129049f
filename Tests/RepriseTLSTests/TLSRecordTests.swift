import Foundation
import NIOCore
import NIOEmbedded
import RepriseTLS
import Testing

/// How the TLS handler cuts plaintext into records and hands decrypted plaintext on: small
/// writes flushed together leave as one record; plaintext comes in buffers sized to what was
/// decrypted (not a 16 KiB record buffer per read); records that arrive in pieces are put back
/// together in order.
@Suite("TLS records and read buffers")
struct TLSRecordTests {
    /// Every plaintext buffer the client's pipeline received.
    private func received(by channel: EmbeddedChannel) throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }

    /// Writes each part with its own promise, then flushes once.
    private func writeAndFlush(_ parts: [String], on channel: EmbeddedChannel) -> [EventLoopFuture<Void>] {
        let futures = parts.map { part in
            let promise = channel.eventLoop.makePromise(of: Void.self)
            channel.write(ByteBuffer(string: part), promise: promise)
            return promise.futureResult
        }
        channel.flush()
        return futures
    }

    @Test func aSmallRecordComesInABufferOfItsOwnSize() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }
        let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        try pair.server.writeOutbound(ByteBuffer(string: answer))
        pair.interact()

        let buffers = try received(by: pair.client)
        #expect(buffers.map { String(buffer: $0) }.joined() == answer)
        #expect(buffers.count == 1)
        // At most the record's ciphertext (plaintext + header + tag), far below a 16 KiB record buffer.
        #expect(buffers.allSatisfy { $0.capacity < answer.utf8.count + 256 }, "capacities \(buffers.map(\.capacity))")
    }

    @Test(arguments: [1, 700, 5_000, 17_000])
    func recordsArrivingInPiecesArePutBackTogetherInOrder(sliceBytes: Int) throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }
        // 100 KB of numbered lines: several full 16 KiB records and a short last one.
        let lines = (0..<9_000).map { String(format: "%010d\n", $0) }.joined()
        try pair.server.writeOutbound(ByteBuffer(string: lines))

        var ciphertext = ByteBuffer()
        while var piece = try pair.server.readOutbound(as: ByteBuffer.self) { ciphertext.writeBuffer(&piece) }
        #expect(ciphertext.readableBytes > lines.utf8.count)
        var plaintext = ""
        var capacities: [Int] = []
        while ciphertext.readableBytes > 0 {
            let slice = ciphertext.readSlice(length: min(sliceBytes, ciphertext.readableBytes))!
            try pair.client.writeInbound(slice)
            for buffer in try received(by: pair.client) {
                plaintext += String(buffer: buffer)
                capacities.append(buffer.capacity)
            }
        }
        #expect(plaintext == lines)
        #expect(capacities.allSatisfy { $0 <= 16 * 1024 }, "no buffer beyond one record: \(capacities.max() ?? 0)")
    }

    @Test func smallWritesFlushedTogetherLeaveAsOneRecord() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }
        let parts = ["POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-length: 7\r\n\r\n", "{\"a\":1}", ""]
        let promises = writeAndFlush(parts, on: pair.client)
        pair.interact()

        let buffers = try received(by: pair.server)
        #expect(buffers.count == 1, "one record, decrypted by one read: \(buffers.map { String(buffer: $0) })")
        #expect(buffers.map { String(buffer: $0) }.joined() == parts.joined())
        for future in promises { try future.wait() }
    }

    @Test func aLargeWriteBetweenSmallOnesKeepsTheOrderAndEveryPromise() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let pair = try InMemoryTLSPair.connected(certificates)
        defer { pair.finish() }
        let parts = ["head\n", String(repeating: "x", count: 40_000), "tail\n", "end\n"]
        let promises = writeAndFlush(parts, on: pair.client)
        pair.interact()

        #expect(try received(by: pair.server).map { String(buffer: $0) }.joined() == parts.joined())
        for future in promises { try future.wait() }
    }
}
