import Foundation

/// A running `reprise` with both listeners: plain HTTP on `--listen 127.0.0.1:0` and HTTPS from
/// `server.tls` (also on port 0). Its two `reprise listening on http(s)://...` lines give the ports.
final class TLSProxy: Sendable {
    let process: ManagedProcess
    let httpPort: Int
    let httpsPort: Int
    let configPath: String

    var httpsBaseURL: String { "https://127.0.0.1:\(httpsPort)" }
    var httpBaseURL: String { "http://127.0.0.1:\(httpPort)" }

    private init(process: ManagedProcess, httpPort: Int, httpsPort: Int, configPath: String) {
        self.process = process
        self.httpPort = httpPort
        self.httpsPort = httpsPort
        self.configPath = configPath
    }

    /// The `server.tls` block for `pki`'s server pair plus `extra` lines (indented under `tls:`).
    static func tlsYAML(certificate: String, key: String, extra: [String] = []) -> String {
        var yaml = "server:\n  tls:\n    listen: 127.0.0.1:0\n    certificate: \(certificate)\n    private_key: \(key)\n"
        for line in extra { yaml += "    \(line)\n" }
        return yaml
    }

    /// Writes `yaml` to a fresh config file and starts `reprise` (the process, not yet listening).
    static func launch(upstream: String, yaml: String) throws -> (ManagedProcess, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-tls-proxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configPath = directory.appendingPathComponent("reprise.yaml").path
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = try ManagedProcess(
            executable: try TestBinaries.reprise,
            arguments: ["--config", configPath, "--listen", "127.0.0.1:0", "--upstream", upstream]
        )
        return (process, configPath)
    }

    static func start(upstream: String, yaml: String) async throws -> TLSProxy {
        let (process, configPath) = try launch(upstream: upstream, yaml: yaml)
        do {
            let https = try await process.waitForOutput(matching: #"listening on https://[^\s]+:(\d+)"#)
            let http = try await process.waitForOutput(matching: #"listening on http://[^\s]+:(\d+)"#)
            guard let httpsPort = Int(https[1]), let httpPort = Int(http[1]) else {
                throw process.failure(.timedOut("ports in the listening lines"))
            }
            return TLSProxy(process: process, httpPort: httpPort, httpsPort: httpsPort, configPath: configPath)
        } catch {
            await process.terminate()
            throw error
        }
    }

    @discardableResult
    func stop() async -> Int32 { await process.terminate() }

    /// How many descriptors the reprise process has open (entries of /proc/PID/fd).
    func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/fd").count
    }

    /// Polls the descriptor count until `condition` holds or `timeout` passes; returns the last count.
    func waitForDescriptors(timeout: Duration = .seconds(20), until condition: (Int) -> Bool) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let count = try openDescriptors()
            if condition(count) || ContinuousClock.now >= deadline { return count }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
