import Testing
@testable import RepriseRedis

@Suite("Redis URLs")
struct RedisConfigurationURLTests {
    @Test func redisURLs() throws {
        let plain = try RedisConfiguration(url: "redis://cache.local")
        #expect(plain.endpoint == .tcp(host: "cache.local", port: 6379))
        #expect(plain.password == nil && plain.username == nil && plain.database == 0)

        let full = try RedisConfiguration(url: "redis://alice:p%40ss@10.0.0.1:6380/4")
        #expect(full.endpoint == .tcp(host: "10.0.0.1", port: 6380))
        #expect(full.username == "alice")
        #expect(full.password == "p@ss")
        #expect(full.database == 4)

        let passwordOnly = try RedisConfiguration(url: "redis://:secret@h:1/")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.database == 0)

        let ipv6 = try RedisConfiguration(url: "redis://[::1]:7000/1")
        #expect(ipv6.endpoint == .tcp(host: "::1", port: 7000))
    }

    @Test func unixURLs() throws {
        let socket = try RedisConfiguration(url: "unix:///var/run/redis.sock?db=3")
        #expect(socket.endpoint == .unixSocket(path: "/var/run/redis.sock"))
        #expect(socket.database == 3)
        let auth = try RedisConfiguration(url: "unix:///s.sock?user=u&password=p")
        #expect(auth.username == "u" && auth.password == "p")
    }

    @Test(arguments: [
        ("rediss://h:6380", RedisError.Code.unsupportedScheme),
        ("http://h", .unsupportedScheme),
        ("h:6379", .invalidURL),
        ("redis://h:0", .invalidURL),
        ("redis://h:70000", .invalidURL),
        ("redis://h:port", .invalidURL),
        ("redis://h/db", .invalidURL),
        ("redis://h/-1", .invalidURL),
        ("redis://:pw@", .invalidURL),
        ("redis://[::1", .invalidURL),
        ("unix://relative.sock", .invalidURL),
        ("unix:///s.sock?db=x", .invalidURL),
        ("unix:///s.sock?color=red", .invalidURL),
        ("redis://u:%zz@h", .invalidURL),
    ])
    func invalidURLs(url: String, code: RedisError.Code) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        do {
            _ = try RedisConfiguration(url: url)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func rejectedTLSExplainsWhy() {
        do {
            _ = try RedisConfiguration(url: "rediss://h")
            Issue.record("rediss must be refused")
        } catch {
            #expect(error.message.contains("TLS"))
        }
    }

    @Test func errorsDoNotLeakPasswords() {
        do {
            _ = try RedisConfiguration(url: "redis://u:topsecret@h:notaport")
        } catch {
            #expect(!error.message.contains("topsecret"))
        }
    }

    @Test func reconnectBackoffDoublesUpToTheCap() {
        let configuration = RedisConfiguration(
            endpoint: .tcp(host: "h", port: 1),
            reconnectBaseDelay: .milliseconds(50),
            reconnectMaxDelay: .milliseconds(300)
        )
        let delays = (0...5).map { configuration.reconnectDelay(afterFailures: $0) }
        #expect(delays == [.zero, .milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(300)])
    }
}
