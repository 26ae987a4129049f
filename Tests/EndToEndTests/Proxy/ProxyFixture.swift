import Testing

/// Runs `body` with a fresh mock upstream and a `reprise` in front of it (configured by `yaml`),
/// and stops both afterwards; when `body` throws, both processes' stderr go into the test report.
func withMockAndReprise(
    yaml: String = "",
    mockArguments: [String] = [],
    _ body: (MockUpstream, RepriseProcess) async throws -> Void
) async throws {
    let mock = try await MockUpstream.start(arguments: mockArguments)
    let proxy: RepriseProcess
    do {
        proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: yaml)
    } catch {
        await mock.stop()
        throw error
    }
    do {
        try await body(mock, proxy)
    } catch {
        Issue.record("""
            reprise exit \(String(describing: proxy.process.exitCode)), stderr:
            \(proxy.process.stderr)
            mock exit \(String(describing: mock.process.exitCode)), stderr:
            \(mock.process.stderr)
            """)
        await proxy.stop()
        await mock.stop()
        throw error
    }
    await proxy.stop()
    await mock.stop()
}
