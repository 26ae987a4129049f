import Foundation
import NIOCore
import NIOPosix
import RepriseRedis

/// A real `redis-server` owned by one test: started on a free port (and a unix socket),
/// waited for until it answers PING, stopped at the end. Fault tests kill, pause and resume it.
final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: `process` is only replaced by `restart()`, which tests call from one task.
    let port: Int
    let unixSocketPath: String
    let extraArguments: [String]
    private var process: Process

    private init(port: Int, unixSocketPath: String, extraArguments: [String], process: Process) {
        self.port = port
        self.unixSocketPath = unixSocketPath
        self.extraArguments = extraArguments
        self.process = process
    }

    static func start(extraArguments: [String] = [], port: Int? = nil) async throws -> RedisServerProcess {
        let port = try await { if let port { return port }; return try await freePort() }()
        let socket = "/tmp/reprise-redis-test-\(port)-\(UInt32.random(in: 0...UInt32.max)).sock"
        let process = try launch(port: port, unixSocketPath: socket, extraArguments: extraArguments)
        let server = RedisServerProcess(port: port, unixSocketPath: socket, extraArguments: extraArguments, process: process)
        try await server.waitUntilReady()
        return server
    }

    var url: String { "redis://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// Stops it for good (SIGKILL: no goodbye to clients, like a crash).
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func pause() { Foundation.kill(process.processIdentifier, SIGSTOP) }
    func resume() { Foundation.kill(process.processIdentifier, SIGCONT) }

    /// Starts a fresh server on the same port and socket after `kill()`.
    func restart() async throws {
        kill()
        var lastError: (any Error)?
        // The port may linger a moment after the kill.
        for _ in 0..<50 {
            do {
                process = try Self.launch(port: port, unixSocketPath: unixSocketPath, extraArguments: extraArguments)
                try await waitUntilReady()
                return
            } catch {
                lastError = error
                kill()
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw lastError ?? RedisServerError.notReady("restart")
    }

    func stop() {
        kill()
        try? FileManager.default.removeItem(atPath: unixSocketPath)
    }

    deinit { if process.isRunning { kill() } }

    /// Runs `redis-cli` against the server, for checks that must not go through the client under test.
    func cli(_ arguments: [String]) throws -> String {
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        cli.arguments = ["-p", String(port)] + arguments
        let output = Pipe()
        cli.standardOutput = output
        cli.standardError = FileHandle.nullDevice
        try cli.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        cli.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func waitUntilReady() async throws {
        for _ in 0..<200 {
            guard process.isRunning else { throw RedisServerError.notReady("redis-server exited with \(process.terminationStatus)") }
            // Any answer (PONG, or NOAUTH when a password or ACL is set) means it listens;
            // redis-cli prints connection failures on stderr only.
            if let answer = try? cli(["PING"]), !answer.isEmpty { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RedisServerError.notReady("redis-server on port \(port) did not answer PING")
    }

    private static func launch(port: Int, unixSocketPath: String, extraArguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--unixsocket", unixSocketPath, "--unixsocketperm", "700", "--loglevel", "warning",
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A port the OS just handed out (bound to port 0, then released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}

enum RedisServerError: Error {
    case notReady(String)
}
