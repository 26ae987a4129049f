import Foundation

/// `reprise check-config` on a configuration written for the test: its exit code and stderr.
enum CheckConfigRun {
    static func run(yaml: String) async throws -> (code: Int32, stderr: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("reprise.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let process = try ManagedProcess(executable: try TestBinaries.reprise, arguments: ["check-config", path])
        let code = try await process.waitForExit(timeout: .seconds(30))
        return (code, process.stderr)
    }
}
