import Foundation
import NIOCore
import Testing
@testable import RepriseRedis

@Suite("RedisClient against a real redis-server")
struct RedisClientTests {
    @Test func roundTripsBinarySafeValues() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url)
            try await client.ping()
            let value = ByteBuffer(bytes: [0, 13, 10, 255, 36, 42, 0])
            try await client.set("k\r\n\0", value: value)
            #expect(try await client.get("k\r\n\0") == value)
            #expect(try await client.get("missing") == nil)
            #expect(try await client.del(["k\r\n\0", "missing"]) == 1)
            #expect(try await client.get("k\r\n\0") == nil)
            #expect(try await client.send(RedisCommand("ECHO", "")) == .bulk(ByteBuffer()))
            let reply = try await client.send([ByteBuffer(string: "MGET"), ByteBuffer(string: "a"), ByteBuffer(string: "b")])
            #expect(reply == .array([.null, .null]))
            try await client.shutdown()
        }
    }

    @Test func setWithTTLExpires() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url)
            try await client.set("ttl", value: ByteBuffer(string: "v"), ttlMilliseconds: 60_000)
            let pttl = try server.cli(["PTTL", "ttl"])
            #expect((Int(pttl) ?? 0) > 50_000)
            try await client.set("short", value: ByteBuffer(string: "v"), ttlMilliseconds: 1)
            #expect(await eventually { (try? await client.get("short")) == .some(nil) })
            try await client.shutdown()
        }
    }

    @Test func serverErrorCarriesItsMessage() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url)
            try await client.set("text", value: ByteBuffer(string: "abc"))
            do {
                _ = try await client.send(RedisCommand("INCR", "text"))
                Issue.record("INCR on a string must fail")
            } catch let error as RedisError {
                #expect(error.code == .serverError)
                #expect(error.message.contains("not an integer"))
            }
            // The connection is still usable afterwards.
            try await client.ping()
            try await client.shutdown()
        }
    }

    @Test func pipelinesTenThousandCommandsInOrder() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, poolSize: 1, commandTimeout: .seconds(60))
            let futures: [EventLoopFuture<RedisReply>] = (0..<10_000).map { _ in client.send(RedisCommand("INCR", "counter")) }
            for (index, future) in futures.enumerated() {
                #expect(try await future.get() == .integer(Int64(index + 1)))
            }
            try await client.shutdown()
        }
    }

    @Test func aLoneCommandGoesOutBeforeTheLoopTickEnds() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, poolSize: 1)
            try await client.connect().get()
            // Sent on the connection's own loop, then asked about through redis-cli while the
            // same task still runs: a flush left for the end of the tick would not have happened.
            let arrivedWithinTheTick = try await client.eventLoop.submit {
                _ = client.send(RedisCommand("INCR", "lone"))
                for _ in 0..<40 {
                    if (try? server.cli(["GET", "lone"])) == "1" { return true }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                return false
            }.get()
            #expect(arrivedWithinTheTick)
            #expect(try await client.get("lone") == ByteBuffer(string: "1"))
            try await client.shutdown()
        }
    }

    @Test func fourMegabyteValue() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, commandTimeout: .seconds(30))
            var value = ByteBuffer()
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<(4 << 20) / 8 { value.writeInteger(generator.next() as UInt64) }
            try await client.set("big", value: value)
            #expect(try server.cli(["STRLEN", "big"]) == String(4 << 20))
            #expect(try await client.get("big") == value)
            try await client.shutdown()
        }
    }

    @Test func deleteKeysMatchingUsesScanAndUnlink() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url)
            for index in 0..<2500 { try await client.set("purge:\(index)", value: ByteBuffer(string: "x")) }
            try await client.set("keep:1", value: ByteBuffer(string: "x"))
            #expect(try await client.deleteKeys(matching: "purge:*") == 2500)
            #expect(try server.cli(["DBSIZE"]) == "1")
            try await client.shutdown()
        }
    }

    @Test func authWithPassword() async throws {
        try await withRedisServer(extraArguments: ["--requirepass", "s3cret"]) { server in
            let good = try makeClient("redis://:s3cret@127.0.0.1:\(server.port)")
            try await good.ping()
            try await good.shutdown()
            let bad = try makeClient("redis://:wrong@127.0.0.1:\(server.port)")
            #expect(await errorCode { try await bad.ping() } == .authenticationFailed)
            try await bad.shutdown()
            let none = try makeClient(server.url)
            #expect(await errorCode { try await none.ping() } == .serverError)  // NOAUTH
            try await none.shutdown()
        }
    }

    @Test func authWithACLUser() async throws {
        // One token per word: redis-server quotes a command-line value that contains spaces.
        let arguments = ["--user", "default", "off", "--user", "cache", "on", ">p%ss", "~reprise:*", "+@all"]
        try await withRedisServer(extraArguments: arguments) { server in
            let client = try makeClient("redis://cache:p%25ss@127.0.0.1:\(server.port)")
            try await client.set("reprise:x", value: ByteBuffer(string: "1"))
            #expect(try await client.get("reprise:x") == ByteBuffer(string: "1"))
            // The ACL forbids other keys: the server's message comes through.
            #expect(await errorCode { try await client.set("other", value: ByteBuffer(string: "1")) } == .serverError)
            try await client.shutdown()
            let wrong = try makeClient("redis://cache:nope@127.0.0.1:\(server.port)")
            #expect(await errorCode { try await wrong.ping() } == .authenticationFailed)
            try await wrong.shutdown()
        }
    }

    @Test func selectDatabaseFromURL() async throws {
        try await withRedisServer { server in
            let db3 = try makeClient(server.url + "/3")
            try await db3.set("where", value: ByteBuffer(string: "three"))
            #expect(try server.cli(["-n", "3", "GET", "where"]) == "three")
            #expect(try server.cli(["-n", "0", "EXISTS", "where"]) == "0")
            let db0 = try makeClient(server.url)
            #expect(try await db0.get("where") == nil)
            let bad = try makeClient(server.url + "/99")
            #expect(await errorCode { try await bad.ping() } == .serverError)
            for client in [db3, db0, bad] { try await client.shutdown() }
        }
    }

    @Test func unixSocketURL() async throws {
        try await withRedisServer { server in
            let client = try makeClient("unix://\(server.unixSocketPath)?db=2")
            try await client.set("via-socket", value: ByteBuffer(string: "yes"))
            #expect(try server.cli(["-n", "2", "GET", "via-socket"]) == "yes")
            try await client.shutdown()
        }
    }

    @Test func connectionRefusedIsTypedThenBacksOff() async throws {
        let port = try await RedisServerProcess.freePort()
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(port)")
        configuration.poolSize = 1
        configuration.reconnectBaseDelay = .seconds(30)
        let client = RedisClient(configuration: configuration, eventLoopGroup: testGroup)
        #expect(await errorCode { try await client.ping() } == .connectionRefused)
        // Within the backoff the client fails fast instead of connecting again.
        #expect(await errorCode { try await client.ping() } == .connectionUnavailable)
        try await client.shutdown()
        #expect(await errorCode { try await client.ping() } == .shutdown)
    }

    @Test func reconnectsAfterServerRestartOnSamePort() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, poolSize: 1)
            try await client.set("before", value: ByteBuffer(string: "1"))
            try await server.restart()
            // The first command may meet the dead connection; the client reconnects by itself.
            let back = await eventually { (try? await client.ping()) != nil }
            #expect(back)
            try await client.set("after", value: ByteBuffer(string: "2"))
            #expect(try await client.get("after") == ByteBuffer(string: "2"))
            try await client.shutdown()
        }
    }

    @Test func commandTimeoutWhenServerIsPaused() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, poolSize: 1, commandTimeout: .milliseconds(300))
            // 300 ms is short on a loaded machine: the first answer may take a few tries.
            #expect(await eventually { (try? await client.ping()) != nil })
            server.pause()
            defer { server.resume() }
            #expect(await errorCode { try await client.ping() } == .commandTimeout)
            server.resume()
            // The late PONG of the timed-out command is dropped; the next reply matches its command.
            #expect(await eventually { (try? await client.send(RedisCommand("ECHO", "match"))) == .bulk(ByteBuffer(string: "match")) })
            try await client.shutdown()
        }
    }

    @Test func exactRESPBytesOnTheWire() async throws {
        let server = try await ScriptedRESPServer.start(answer: Array("+OK\r\n".utf8))
        let client = try makeClient(server.url, poolSize: 1)
        let reply = try await client.send(.set("k", value: ByteBuffer(bytes: [0, 13, 10]), ttlMilliseconds: 1500))
        #expect(reply == .status("OK"))
        let expected = "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\0\r\n\r\n$2\r\nPX\r\n$4\r\n1500\r\n"
        #expect(server.receivedBytes == Array(expected.utf8))
        try await client.shutdown()
        try await server.stop()
    }

    @Test func getIsFormattedLikeAnyCommand() async throws {
        let server = try await ScriptedRESPServer.start(answer: Array("$-1\r\n".utf8))
        let client = try makeClient(server.url, poolSize: 1)
        let key = "reprise:v1:ns:é\r\n"
        #expect(try await client.send(.get(key)) == .null)
        #expect(RedisCommand.get(key) == RedisCommand("GET", key))
        #expect(server.receivedBytes == Array("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8))
        try await client.shutdown()
        try await server.stop()
    }

    @Test func garbageReplyIsAProtocolErrorAndClosesTheConnection() async throws {
        let server = try await ScriptedRESPServer.start(answer: Array("this is not RESP\r\n".utf8))
        let client = try makeClient(server.url, poolSize: 1)
        let first: EventLoopFuture<RedisReply> = client.send(.ping())
        let second: EventLoopFuture<RedisReply> = client.send(.ping())
        #expect(await errorCode { _ = try await first.get() } == .protocolError)
        #expect(await errorCode { _ = try await second.get() } == .protocolError)
        // A fresh connection is opened for the next command (and fails the same way).
        #expect(await errorCode { try await client.ping() } == .protocolError)
        try await client.shutdown()
        try await server.stop()
    }

    @Test func oversizedArrayHeaderIsRefusedBeforeAllocation() async throws {
        let server = try await ScriptedRESPServer.start(answer: Array("*2000000000\r\n".utf8))
        let client = try makeClient(server.url, poolSize: 1)
        do {
            try await client.ping()
            Issue.record("must fail")
        } catch let error as RedisError {
            #expect(error.code == .protocolError)
            #expect(error.message.contains("elements"))
        }
        try await client.shutdown()
        try await server.stop()
    }
}

@Suite("RedisClient pool")
struct RedisClientPoolTests {
    @Test func poolOpensItsConnectionsAndSpreadsCommands() async throws {
        try await withRedisServer { server in
            let client = try makeClient(server.url, poolSize: 3)
            try await client.connect().get()
            let clients = try server.cli(["CLIENT", "LIST"]).split(separator: "\n")
            // Three pooled connections plus redis-cli itself.
            #expect(clients.count == 4)
            // Commands from outside the event loops go round-robin: every connection gets work.
            for _ in 0..<30 { try await client.ping() }
            let lines = try server.cli(["CLIENT", "LIST"]).split(separator: "\n").filter { !$0.contains("cmd=client") }
            #expect(lines.count == 3)
            #expect(lines.allSatisfy { $0.contains("cmd=ping") })
            try await client.shutdown()
        }
    }
}
