import NIOCore
import Testing
@testable import RepriseRedis

/// The parser reads whole bulk replies that start a read itself (no hiredis) and hands them up
/// as slices of the read buffer; everything else, and every lax form hiredis accepts, still goes
/// through hiredis with the same result.
@Suite("RESP bulk replies read in place")
struct RESPBulkFastPathTests {
    /// Every reply of `wire`, fed whole and then one byte at a time (always through hiredis);
    /// nil for a protocol error.
    private func repliesWholeAndByByte(_ wire: [UInt8], limits: RedisReplyLimits = .init()) -> (whole: [RedisReply]?, byByte: [RedisReply]?) {
        var whole: [RedisReply]? = []
        do {
            try RedisReplyParser(limits: limits).feed(ByteBuffer(bytes: wire)) { whole?.append($0) }
        } catch {
            whole = nil
        }
        var byByte: [RedisReply]? = []
        let parser = RedisReplyParser(limits: limits)
        do {
            for byte in wire {
                try parser.feed(ByteBuffer(bytes: [byte])) { byByte?.append($0) }
            }
        } catch {
            byByte = nil
        }
        return (whole, byByte)
    }

    @Test func aBulkReplyIsASliceOfTheReadBuffer() throws {
        var read = ByteBuffer(string: "xx$5\r\nhello\r\n")
        read.moveReaderIndex(forwardBy: 2)
        var replies: [RedisReply] = []
        try RedisReplyParser(limits: .init()).feed(read) { replies.append($0) }
        #expect(replies == [.bulk(ByteBuffer(string: "hello"))])
        guard case .bulk(let bulk) = replies.first else { return }
        let readBase = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let bulkBase = bulk.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(bulkBase == readBase + 4, "the bulk's bytes are the read buffer's, not a copy")
    }

    @Test func bulkNullAndOtherRepliesInOneReadComeOutInOrder() throws {
        let wire = Array("$3\r\nabc\r\n$-1\r\n$0\r\n\r\n+OK\r\n$2\r\nxy\r\n:5\r\n$4\r\n\0\r\n\u{1}\r\n".utf8)
        let (whole, byByte) = repliesWholeAndByByte(wire)
        let expected: [RedisReply] = [
            .bulk(ByteBuffer(string: "abc")), .null, .bulk(ByteBuffer()), .status("OK"), .bulk(ByteBuffer(string: "xy")), .integer(5),
            .bulk(ByteBuffer(bytes: [0, 13, 10, 1])),
        ]
        #expect(whole == expected)
        #expect(byByte == expected)
    }

    @Test func aBulkCutAcrossReadsIsReadByHiredisThenTheNextOneInPlaceAgain() throws {
        let parser = RedisReplyParser(limits: .init())
        var replies: [RedisReply] = []
        try parser.feed(ByteBuffer(string: "$6\r\nabc")) { replies.append($0) }
        #expect(replies.isEmpty)
        try parser.feed(ByteBuffer(string: "def\r\n$1\r\nz")) { replies.append($0) }
        try parser.feed(ByteBuffer(string: "\r\n")) { replies.append($0) }
        let read = ByteBuffer(string: "$2\r\nok\r\n")
        try parser.feed(read) { replies.append($0) }
        #expect(replies == [.bulk(ByteBuffer(string: "abcdef")), .bulk(ByteBuffer(string: "z")), .bulk(ByteBuffer(string: "ok"))])
        guard case .bulk(let last) = replies.last else { return }
        let readBase = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(last.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == readBase + 4)
    }

    /// Forms other than the plain one (a sign, leading zeros, bytes after the length, a
    /// 10-digit length, no CRLF after the bytes) are left to hiredis: read or refused, the
    /// outcome is the same whatever the cut.
    @Test func otherFormsGiveWhatHiredisGives() {
        let forms = ["$+3\r\nabc\r\n", "$003\r\nabc\r\n", "$0\r\n\r\n", "$3\r\nabcXY", "$-5\r\n", "$-0\r\n", "$0000000003\r\nabc\r\n", "$3x\r\nabc\r\n", "$1234567890\r\n"]
        for text in forms {
            let (whole, byByte) = repliesWholeAndByByte(Array(text.utf8))
            #expect(whole == byByte, "\(text.debugDescription)")
        }
    }

    @Test func aWholeBulkOverTheLimitIsAProtocolErrorAndRetiresTheParser() throws {
        let parser = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 16, maxArrayElements: 4))
        var replies: [RedisReply] = []
        try parser.feed(ByteBuffer(string: "$9\r\n123456789\r\n")) { replies.append($0) }
        #expect(replies.count == 1, "16 bytes on the wire: at the limit")
        do {
            try parser.feed(ByteBuffer(string: "$10\r\n1234567890\r\n")) { replies.append($0) }
            Issue.record("a reply over the limit must fail")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("17 bytes"))
        }
        #expect(throws: RedisError.self) { try parser.feed(ByteBuffer(string: "$1\r\na\r\n")) { _ in } }
    }

    @Test func commandsAreKeptInTheirRESPForm() {
        let get = RedisCommand.get("reprise:v1:ns:abc")
        #expect(String(buffer: get.wire) == "*2\r\n$3\r\nGET\r\n$17\r\nreprise:v1:ns:abc\r\n")
        #expect(get.name == "GET" && get.argumentCount == 2)
        #expect(get == RedisCommand("GET", "reprise:v1:ns:abc"))
        let many = RedisCommand("del", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j")
        #expect(many.name == "DEL" && many.argumentCount == 11)
        #expect(String(buffer: many.wire).hasPrefix("*11\r\n$3\r\ndel\r\n$1\r\na\r\n"))
        let long = RedisCommand(arguments: [ByteBuffer(repeating: 0x61, count: 12), ByteBuffer(repeating: 0, count: 1000)])
        #expect(long.name == String(repeating: "A", count: 12))
        #expect(long.wire.readableBytes == RESPFormatter.byteCount(argumentLengths: [12, 1000]))
        #expect(long.wire.readableBytes == 4 + (5 + 14) + (7 + 1002))
        let large = RedisCommand(arguments: [ByteBuffer(string: "SET"), ByteBuffer(string: "k"), ByteBuffer(repeating: 0x7A, count: 1_234_560)])
        #expect(String(buffer: large.wire.getSlice(at: large.wire.readerIndex, length: 32)!).hasPrefix("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1234560\r\nzz"))
        #expect(large.wire.readableBytes == 4 + 9 + 7 + (10 + 1_234_560 + 2))
    }
}
