import Foundation

/// A running `reprise` on a free port, started from a configuration written for the test.
final class RepriseProcess: Sendable {
    let process: ManagedProcess
    let port: Int
    let configPath: String

    var baseURL: String { "http://127.0.0.1:\(port)" }
    func url(_ path: String) -> String { baseURL + path }

    private init(process: ManagedProcess, port: Int, configPath: String) {
        self.process = process
        self.port = port
        self.configPath = configPath
    }

    /// Starts Reprise with `yaml` as its configuration; `listen` defaults to a free port.
    static func start(upstream: String, yaml: String = "", arguments: [String] = [], environment: [String: String] = [:]) async throws -> RepriseProcess {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configPath = directory.appendingPathComponent("reprise.yaml").path
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        return try await start(upstream: upstream, configPath: configPath, arguments: arguments, environment: environment)
    }

    /// Starts Reprise on the configuration file at `configPath` (a test that rewrites it later).
    static func start(
        upstream: String, configPath: String, arguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> RepriseProcess {
        let process = try ManagedProcess(
            executable: try TestBinaries.reprise,
            arguments: ["--config", configPath, "--listen", "127.0.0.1:0", "--upstream", upstream] + arguments,
            environment: environment
        )
        do {
            let port = try await process.waitForListeningPort()
            return RepriseProcess(process: process, port: port, configPath: configPath)
        } catch {
            await process.terminate()
            throw error
        }
    }

    @discardableResult
    func stop() async -> Int32 {
        await process.terminate()
    }

    func connect(timeout: Double = 30) throws -> RawHTTPConnection {
        try RawHTTPConnection(port: port, timeout: timeout)
    }
}

/// A free TCP port nobody listens on (bound then released), for "upstream down" tests.
func unusedPort() throws -> Int {
    let (fd, port) = bindLoopbackSocket()
    close(fd)
    return port
}

/// A TCP socket bound to 127.0.0.1 on a port the system picked: the descriptor and the port.
func bindLoopbackSocket() -> (descriptor: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
