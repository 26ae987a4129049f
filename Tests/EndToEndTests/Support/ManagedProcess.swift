import Foundation
import NIOConcurrencyHelpers

/// A child process for end-to-end tests: output captured (kept for failure messages), the port
/// read from its `listening on HOST:PORT` line, and never left running — `terminate()` sends
/// SIGTERM then SIGKILL, and deinit kills it if a test forgot.
final class ManagedProcess: Sendable {
    struct Failure: Error, CustomStringConvertible {
        enum Kind: Sendable {
            case launchFailed(String)
            case exitedBeforeListening(Int32)
            case timedOut(String)
        }

        let kind: Kind
        let command: String
        let stdout: String
        let stderr: String

        var description: String {
            let what: String
            switch kind {
            case .launchFailed(let reason): what = "could not launch: \(reason)"
            case .exitedBeforeListening(let code): what = "exited with \(code) before listening"
            case .timedOut(let waitingFor): what = "timed out waiting for \(waitingFor)"
            }
            return "\(command): \(what)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
        }
    }

    private struct Output {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        /// Exit code, or 128 + signal number when a signal ended the process (shell convention).
        var exitCode: Int32?
    }

    let command: String
    let pid: Int32
    /// Kept so Foundation keeps monitoring the child (and calls the termination handler).
    private let process: Process
    private let output: NIOLockedValueBox<Output>

    static let listeningPattern = #"listening on (?:https?://)?[^\s]+:(\d+)"#

    init(executable: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let command = ([executable.path] + arguments).joined(separator: " ")
        let output = NIOLockedValueBox(Output())
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { finished in
            let status = finished.terminationStatus
            let code = finished.terminationReason == .uncaughtSignal ? 128 + status : status
            output.withLockedValue { $0.exitCode = code }
        }
        do {
            try process.run()
        } catch {
            throw Failure(kind: .launchFailed("\(error)"), command: command, stdout: "", stderr: "")
        }
        self.command = command
        self.pid = process.processIdentifier
        self.process = process
        self.output = output
        Self.drain(stdoutPipe.fileHandleForReading, into: output, keyPath: \.stdout)
        Self.drain(stderrPipe.fileHandleForReading, into: output, keyPath: \.stderr)
    }

    deinit {
        if output.withLockedValue({ $0.exitCode }) == nil {
            Foundation.kill(pid, SIGKILL)
        }
    }

    /// Reads a pipe on its own thread until EOF, so a chatty child never blocks on a full pipe.
    private static func drain(
        _ handle: FileHandle,
        into output: NIOLockedValueBox<Output>,
        keyPath: WritableKeyPath<Output, [UInt8]> & Sendable
    ) {
        let thread = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                output.withLockedValue { $0[keyPath: keyPath].append(contentsOf: data) }
            }
            // Closed here, not left to Foundation: the pipe outlives the process otherwise, and
            // a long test run (hundreds of curl and s_client processes) piles up descriptors
            // until spawning the next process crashes in Process.run.
            try? handle.close()
        }
        thread.start()
    }

    var stdout: String { output.withLockedValue { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.withLockedValue { String(decoding: $0.stderr, as: UTF8.self) } }
    var isRunning: Bool { output.withLockedValue { $0.exitCode == nil } }
    var exitCode: Int32? { output.withLockedValue { $0.exitCode } }

    func failure(_ kind: Failure.Kind) -> Failure {
        Failure(kind: kind, command: command, stdout: stdout, stderr: stderr)
    }

    /// Waits for the first stdout line matching `pattern` and returns its capture groups
    /// (index 0 is the whole match).
    func waitForOutput(matching pattern: String, timeout: Duration = .seconds(60)) async throws -> [String] {
        let regex = try Regex(pattern)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let match = stdout.firstMatch(of: regex) {
                return match.output.map { $0.substring.map(String.init) ?? "" }
            }
            if let code = exitCode {
                // Output may still be draining after the exit: look once more before failing.
                try await Task.sleep(for: .milliseconds(50))
                if let match = stdout.firstMatch(of: regex) {
                    return match.output.map { $0.substring.map(String.init) ?? "" }
                }
                throw failure(.exitedBeforeListening(code))
            }
            guard ContinuousClock.now < deadline else { throw failure(.timedOut("output matching \(pattern)")) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the `listening on HOST:PORT` line and returns the port.
    func waitForListeningPort(timeout: Duration = .seconds(60)) async throws -> Int {
        let groups = try await waitForOutput(matching: Self.listeningPattern, timeout: timeout)
        guard groups.count > 1, let port = Int(groups[1]) else {
            throw failure(.timedOut("a port in the listening line"))
        }
        return port
    }

    func kill(signal: Int32) {
        if isRunning {
            Foundation.kill(pid, signal)
        }
    }

    /// The exit code (128 + signal when killed by a signal).
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let code = exitCode { return code }
            guard ContinuousClock.now < deadline else { throw failure(.timedOut("exit")) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, then SIGKILL when the process has not exited after `grace`. Returns the exit code.
    @discardableResult
    func terminate(grace: Duration = .seconds(10)) async -> Int32 {
        kill(signal: SIGTERM)
        if let code = try? await waitForExit(timeout: grace) { return code }
        kill(signal: SIGKILL)
        return (try? await waitForExit(timeout: .seconds(30))) ?? -1
    }
}
