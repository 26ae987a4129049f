// GET/SET round trips per second through RepriseRedis against redis-benchmark on the same
// redis-server, printed as a ratio (never asserted anywhere).
//
//   swift run -c release RedisBench [--port N] [--requests N] [--pipeline N]
//
// Without --port it starts its own `redis-server` on a free port and stops it at the end.
// Both sides use one connection: "one at a time" waits for each reply before sending the next
// command (redis-benchmark -c 1); "pipelined" keeps a window of N commands in flight
// (redis-benchmark -c 1 -P N).
import Foundation
import NIOCore
import NIOPosix
import RepriseRedis

struct Options {
    var port: Int?
    var requests = 50_000
    var pipeline = 64

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--port": port = iterator.next().flatMap { Int($0) }
            case "--requests": requests = iterator.next().flatMap { Int($0) } ?? requests
            case "--pipeline": pipeline = iterator.next().flatMap { Int($0) } ?? pipeline
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

func run(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

/// `redis-benchmark -q` prints lines like `SET: 81234.55 requests per second, p50=0.311 msec`.
func redisBenchmark(port: Int, requests: Int, pipeline: Int) throws -> [String: Double] {
    let output = try run("/usr/bin/redis-benchmark", [
        "-p", String(port), "-c", "1", "-n", String(requests), "-P", String(pipeline), "-d", "64", "-t", "get,set", "-q",
    ])
    var rates: [String: Double] = [:]
    // -q output uses carriage returns for progress; keep the final lines only.
    for line in output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasSuffix(":"), let rate = Double(parts[1]) else { continue }
        rates[String(parts[0].dropLast())] = rate
    }
    return rates
}

func measure(_ label: String, requests: Int, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(requests) / seconds
}

let options = Options(CommandLine.arguments)
var server: Process?
let port: Int
if let given = options.port {
    port = given
} else {
    port = try freePort()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
    process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    server = process
    for _ in 0..<200 where (try? run("/usr/bin/redis-cli", ["-p", String(port), "PING"]))?.contains("PONG") != true {
        usleep(25_000)
    }
}
defer {
    if let server {
        server.terminate()
        server.waitUntilExit()
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port), poolSize: 1, commandTimeout: .seconds(30))
let client = RedisClient(configuration: configuration, eventLoopGroup: group)
try client.connect().wait()
let value = ByteBuffer(repeating: 120, count: 64)
let requests = options.requests
let window = options.pipeline

// Warm-up.
for _ in 0..<1000 { try client.set("bench:warm", value: value).wait() }

let pipelinedRequests = requests * 4

/// Windows of `window` commands, each sent when the previous window is answered (what
/// redis-benchmark -P does), issued on the connection's event loop as the proxy does (a
/// blocking `wait()` per command from another thread would measure thread wake-ups instead).
func pipelined(total: Int, window: Int, _ makeCommand: @escaping @Sendable (Int) -> EventLoopFuture<Void>) throws {
    let loop = client.eventLoop
    let done = loop.makePromise(of: Void.self)
    @Sendable func sendWindow(from start: Int) {
        guard start < total else { return done.succeed() }
        let batch = min(window, total - start)
        let futures = (0..<batch).map { makeCommand(start + $0) }
        EventLoopFuture.andAllSucceed(futures, on: loop).whenComplete { result in
            switch result {
            case .success: sendWindow(from: start + batch)
            case .failure(let error): done.fail(error)
            }
        }
    }
    loop.execute { sendWindow(from: 0) }
    try done.futureResult.wait()
}

// One at a time: each command sent when the previous reply arrived, on the event loop.
let oursSetSequential = try measure("SET", requests: requests) {
    try pipelined(total: requests, window: 1) { client.set("key:\($0 % 1000)", value: value) }
}
let oursGetSequential = try measure("GET", requests: requests) {
    try pipelined(total: requests, window: 1) { client.get("key:\($0 % 1000)").map { _ in } }
}
let oursSetPipelined = try measure("SET", requests: pipelinedRequests) {
    try pipelined(total: pipelinedRequests, window: window) { client.set("key:\($0 % 1000)", value: value) }
}
let oursGetPipelined = try measure("GET", requests: pipelinedRequests) {
    try pipelined(total: pipelinedRequests, window: window) { client.get("key:\($0 % 1000)").map { _ in } }
}
try client.shutdown().wait()
try group.syncShutdownGracefully()

let referenceSequential = try redisBenchmark(port: port, requests: requests, pipeline: 1)
let referencePipelined = try redisBenchmark(port: port, requests: pipelinedRequests, pipeline: window)

func line(_ name: String, ours: Double, reference: Double?) -> String {
    let ratio = reference.map { String(format: "%.2f", ours / $0) } ?? "n/a"
    let referenceText = reference.map { String(format: "%10.0f", $0) } ?? "       n/a"
    return "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%10.0f", ours)) \(referenceText)   \(ratio)"
}
print("redis-server on port \(port); one connection; 64-byte values; pipeline window \(window)")
print("\("".padding(toLength: 26, withPad: " ", startingAt: 0))  RepriseRedis  redis-benchmark  ratio   (requests per second)")
print(line("SET one at a time", ours: oursSetSequential, reference: referenceSequential["SET"]))
print(line("GET one at a time", ours: oursGetSequential, reference: referenceSequential["GET"]))
print(line("SET pipelined", ours: oursSetPipelined, reference: referencePipelined["SET"]))
print(line("GET pipelined", ours: oursGetPipelined, reference: referencePipelined["GET"]))
