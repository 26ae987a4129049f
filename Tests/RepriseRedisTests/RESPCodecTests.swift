import NIOCore
import Testing
@testable import RepriseRedis

@Suite("hiredis formatting and parsing")
struct RESPCodecTests {
    @Test func formatsBinarySafeArguments() {
        var output = ByteBuffer()
        RESPFormatter.write(RedisCommand(arguments: [ByteBuffer(string: "ECHO"), ByteBuffer(bytes: [0, 10])]), into: &output)
        #expect(String(buffer: output) == "*2\r\n$4\r\nECHO\r\n$2\r\n\0\n\r\n")
        var empty = ByteBuffer()
        RESPFormatter.write(RedisCommand(arguments: [ByteBuffer()]), into: &empty)
        #expect(String(buffer: empty) == "*1\r\n$0\r\n\r\n")
    }

    @Test func parsesEveryReplyTypeAcrossSplitFeeds() throws {
        let parser = RedisReplyParser(limits: RedisReplyLimits())
        let wire = "+OK\r\n-ERR bad\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*3\r\n:1\r\n*1\r\n$1\r\nx\r\n*-1\r\n"
        var replies: [RedisReply] = []
        // One byte at a time: replies come out whole and in order.
        for byte in Array(wire.utf8) {
            try parser.feed(ByteBuffer(bytes: [byte])) { replies.append($0) }
        }
        #expect(replies == [
            .status("OK"), .error("ERR bad"), .integer(-42), .bulk(ByteBuffer(bytes: [97, 0, 98])), .null,
            .array([.integer(1), .array([.bulk(ByteBuffer(string: "x"))]), .null]),
        ])
    }

    @Test func garbageIsAProtocolErrorAndRetiresTheReader() throws {
        let parser = RedisReplyParser(limits: RedisReplyLimits())
        #expect(throws: RedisError.self) { try parser.feed(ByteBuffer(string: "?garbage\r\n")) { _ in } }
        #expect(throws: RedisError.self) { try parser.feed(ByteBuffer(string: "+OK\r\n")) { _ in } }
    }

    @Test func boundsBulkAndArraySizes() throws {
        let parser = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        do {
            try parser.feed(ByteBuffer(string: "*11\r\n")) { _ in }
            Issue.record("array above the limit must fail")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("10 elements"))
        }
        let bulk = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        try bulk.feed(ByteBuffer(string: "$5000\r\n")) { _ in }
        do {
            try bulk.feed(ByteBuffer(repeating: 65, count: 2000)) { _ in }
            Issue.record("bulk above the limit must fail")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("1024 bytes"))
        }
        let within = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        var replies: [RedisReply] = []
        try within.feed(ByteBuffer(string: "*10\r\n" + String(repeating: ":7\r\n", count: 10))) { replies.append($0) }
        #expect(replies == [.array(Array(repeating: .integer(7), count: 10))])
    }
}
