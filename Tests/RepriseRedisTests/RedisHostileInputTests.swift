import NIOCore
import Testing
@testable import RepriseRedis

/// Redis URLs and replies that trapped the process or leaked a secret (issue 18).
@Suite("Redis hostile input")
struct RedisHostileInputTests {
    @Test(arguments: ["unix:///s.sock?=", "unix:///s.sock?=x", "unix:///s.sock?&=&"])
    func aQueryItemWithoutANameIsRefusedNotATrap(url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
    }

    @Test(arguments: [
        ("redis://user:hunter2@h:6379", "redis://***@h:6379"),
        ("redis://:hunter2@h", "redis://***@h"),
        ("redis://hunter2@h/1", "redis://***@h/1"),
        ("redis://h/hunter2", "redis://h/***"),
        ("unix:///s.sock?db=hunter2", "unix:///s.sock?db=***"),
        ("redis://:hunter2", "redis://:***"),
        ("redis://h:6379/0?password=hunter2", "redis://h:6379/0?password=***"),
        ("unix:///s.sock?db=2&password=hunter2", "unix:///s.sock?db=2&password=***"),
        ("unix:///s.sock?user=hunter2&pass=hunter2", "unix:///s.sock?user=***&pass=***"),
        ("unix:///s.sock?token=hunter2&auth=hunter2&secret=hunter2", "unix:///s.sock?token=***&auth=***&secret=***"),
        ("unix:///s.sock?hunter2", "unix:///s.sock?***"),
        ("redis://[::1]:6379", "redis://[::1]:6379"),
    ])
    func everySecretFormInAURLIsRedacted(url: String, expected: String) {
        #expect(RedisConfiguration.redacted(url) == expected)
    }

    @Test(arguments: [
        "redis://:hunter2", "redis://u:hunter2", "redis://u:12/hunter2@h", "redis://h/hunter2",
        "unix:///s.sock?password=%zzhunter2", "unix:///s.sock?hunter2", "unix:///s.sock?db=hunter2",
        "unix:///s.sock?password=hunter2&color=red",
    ])
    func errorsNeverQuoteASecret(url: String) {
        do {
            _ = try RedisConfiguration(url: url)
            Issue.record("\(url) must be refused")
        } catch {
            #expect(!error.message.contains("hunter2"), "\(error.message)")
        }
    }

    @Test func theReplyLimitCountsTheElementsAnArrayHasAlreadyConsumed() {
        let parser = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        let element = "$600\r\n" + String(repeating: "x", count: 600) + "\r\n"
        do {
            // Element by element: hiredis consumes each finished element, so its buffer alone
            // never holds more than one.
            try parser.feed(ByteBuffer(string: "*3\r\n")) { _ in }
            for _ in 0 ..< 3 {
                try parser.feed(ByteBuffer(string: element)) { _ in Issue.record("an over-limit reply was delivered") }
            }
            Issue.record("an array reply of 1.8 KB passed a 1024-byte limit")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("1024 bytes"))
        }
    }

    @Test func aCompleteReplyOverTheLimitInOneFeedIsRefused() {
        let parser = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        let bulk = "$2000\r\n" + String(repeating: "x", count: 2000) + "\r\n"
        #expect(throws: RedisError.self) { try parser.feed(ByteBuffer(string: bulk)) { _ in } }
    }

    @Test func repliesWithinTheLimitStillFlowInAnyChunking() throws {
        let parser = RedisReplyParser(limits: RedisReplyLimits(maxReplyBytes: 1024, maxArrayElements: 10))
        let wire = Array(("*2\r\n$500\r\n" + String(repeating: "a", count: 500) + "\r\n:1\r\n").utf8)
        var replies: [RedisReply] = []
        // 100 replies of ~520 bytes each, 7 bytes at a time: each is counted alone.
        for _ in 0 ..< 100 {
            for start in stride(from: 0, to: wire.count, by: 7) {
                try parser.feed(ByteBuffer(bytes: wire[start ..< min(wire.count, start + 7)])) { replies.append($0) }
            }
        }
        #expect(replies.count == 100)
    }
}
