import Testing

/// Runs `body` with a fresh mock upstream and a `reprise` in front of it (configured by `yaml`),
/// and stops both afterwards; when `body` throws, both processes' stderr go into the test report.
func withMockAndReprise(
    yaml: String = "",
    mockArguments: [String] = [],
    _ body: (MockUpstream, RepriseProcess) async throws -> Void
) async throws {
    try await withMocksAndReprise(yaml: yaml, mockArguments: mockArguments, withFallback: false) { mock, proxy, _ in
        try await body(mock, proxy)
    }
}

/// As `withMockAndReprise`; `withFallback` starts a second mock and names it
/// `upstream.fallback_url` (then `yaml` must contain an `upstream:` section: the key is added
/// to it). The fallback mock is passed to `body` and stopped with the others.
func withMocksAndReprise(
    yaml: String,
    mockArguments: [String] = [],
    withFallback: Bool,
    _ body: (MockUpstream, RepriseProcess, MockUpstream?) async throws -> Void
) async throws {
    let mock = try await MockUpstream.start(arguments: mockArguments)
    var fallback: MockUpstream?
    let proxy: RepriseProcess
    do {
        var configuration = yaml
        if withFallback {
            let started = try await MockUpstream.start(arguments: mockArguments)
            fallback = started
            configuration = configuration.replacingOccurrences(
                of: "upstream:\n", with: "upstream:\n  fallback_url: \(started.baseURL)\n"
            )
        }
        proxy = try await RepriseProcess.start(upstream: mock.baseURL, yaml: configuration)
    } catch {
        await fallback?.stop()
        await mock.stop()
        throw error
    }
    do {
        try await body(mock, proxy, fallback)
    } catch {
        Issue.record("""
            reprise exit \(String(describing: proxy.process.exitCode)), stderr:
            \(proxy.process.stderr.suffix(20_000))
            mock exit \(String(describing: mock.process.exitCode)), stderr:
            \(mock.process.stderr.suffix(20_000))
            """)
        await stopAll(proxy, mock, fallback)
        throw error
    }
    await stopAll(proxy, mock, fallback)
}

private func stopAll(_ proxy: RepriseProcess, _ mock: MockUpstream, _ fallback: MockUpstream?) async {
    await proxy.stop()
    await mock.stop()
    await fallback?.stop()
}
