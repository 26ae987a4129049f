import Foundation
import NIOConcurrencyHelpers

/// A real `redis-server` for end-to-end tests, on a port of its own (no persistence, so a
/// restart starts empty). Fault tests crash it (SIGKILL), pause it (SIGSTOP), resume it
/// (SIGCONT) and start it again on the same port, so a proxy's configured URL stays valid.
/// Checks go through `redis-cli`, never through the code under test.
final class RedisServer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private let process: NIOLockedValueBox<ManagedProcess?>

    var url: String { "redis://127.0.0.1:\(port)" }

    private init(port: Int) {
        self.port = port
        self.process = NIOLockedValueBox(nil)
    }

    /// Starts a server on a free port (retried on another port when that one was taken meanwhile).
    static func start() async throws -> RedisServer {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let server = RedisServer(port: try unusedPort())
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                await server.stop()
            }
        }
        throw lastError ?? Failure(description: "redis-server did not start")
    }

    /// A server that is not running yet on a free port: `launch()` starts it later (for
    /// "Redis down at start" tests, whose proxy gets the URL first).
    static func notStarted() throws -> RedisServer {
        RedisServer(port: try unusedPort())
    }

    /// Starts `redis-server` on `port` and waits until it answers PING. The port may linger a
    /// moment after a kill, so a failed start is retried for a while.
    func launch(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let started = try ManagedProcess(
                executable: URL(fileURLWithPath: "/usr/bin/redis-server"),
                arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                            "--loglevel", "warning"]
            )
            process.withLockedValue { $0 = started }
            while started.isRunning, ContinuousClock.now < deadline {
                if let answer = try? await cli(["PING"], timeout: .seconds(5)), answer == "PONG" { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            started.kill(signal: SIGKILL)
            _ = try? await started.waitForExit(timeout: .seconds(10))
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "redis-server on port \(port) did not answer PING\n\(started.stdout)\n\(started.stderr)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A crash: SIGKILL, no goodbye to clients. Waits until the process is gone.
    func kill() async {
        guard let running = process.withLockedValue({ $0 }) else { return }
        running.kill(signal: SIGCONT)
        running.kill(signal: SIGKILL)
        _ = try? await running.waitForExit(timeout: .seconds(30))
    }

    /// Stops answering without closing anything (connections stay open, commands hang).
    func pause() {
        process.withLockedValue { $0 }?.kill(signal: SIGSTOP)
    }

    func resume() {
        process.withLockedValue { $0 }?.kill(signal: SIGCONT)
    }

    /// Kill, then a fresh (empty) server on the same port.
    func restart() async throws {
        await kill()
        try await launch()
    }

    func stop() async {
        await kill()
    }

    /// Runs `redis-cli` against this server and returns its output, trimmed. A server that does
    /// not answer (paused) makes this throw after `timeout` instead of hanging the test.
    @discardableResult
    func cli(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> String {
        let result = try await CommandRunner.run(
            "/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(port)] + arguments, timeout: timeout
        )
        guard result.status == 0, !result.stdout.hasPrefix("ERR") else {
            throw Failure(description: "redis-cli \(arguments.joined(separator: " ")) exited \(result.status): \(result.stdout) \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The keys matching `pattern` (KEYS: fine for the handful a test writes).
    func keys(_ pattern: String = "reprise:*") async throws -> [String] {
        try await cli(["KEYS", pattern]).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Polls until `pattern` matches `count` keys (stores are fire-and-forget: they land a
    /// moment after the answer). Returns the keys found last.
    @discardableResult
    func waitForKeys(_ pattern: String = "reprise:*", count: Int, timeout: Duration = .seconds(20)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found = try await keys(pattern)
            if found.count == count { return found }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "expected \(count) keys matching \(pattern), found \(found.count): \(found)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Runs a short-lived command with a deadline. Output is read to EOF on threads of their own
/// (a blocked child never blocks the test's tasks); on timeout the child is killed.
enum CommandRunner {
    struct Result: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    struct TimedOut: Error, CustomStringConvertible {
        let command: String
        var description: String { "\(command) did not finish in time" }
    }

    private struct Collected {
        var stdout: Data?
        var stderr: Data?
        var status: Int32?
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws -> Result {
        let command = ([executable] + arguments).joined(separator: " ")
        let collected = NIOLockedValueBox(Collected())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { finished in
            let status = finished.terminationStatus
            collected.withLockedValue { $0.status = status }
        }
        try process.run()
        // Foundation monitors the child only while the Process object lives.
        defer { withExtendedLifetime(process) {} }
        let pid = process.processIdentifier
        let stdoutHandle = stdoutPipe.fileHandleForReading
        let stderrHandle = stderrPipe.fileHandleForReading
        Thread { let data = stdoutHandle.readDataToEndOfFile(); collected.withLockedValue { $0.stdout = data } }.start()
        Thread { let data = stderrHandle.readDataToEndOfFile(); collected.withLockedValue { $0.stderr = data } }.start()
        let deadline = ContinuousClock.now + timeout
        while true {
            let snapshot = collected.withLockedValue { $0 }
            if let status = snapshot.status, let out = snapshot.stdout, let err = snapshot.stderr {
                return Result(status: status, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
            }
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                throw TimedOut(command: command)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
