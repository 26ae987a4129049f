import Logging

/// Polls the certificate, key (and client CA) files and reloads the provider when their content
/// or resolved target changed. Run `run()` in a task (a ServiceLifecycle service, for instance);
/// it returns when the task is cancelled.
///
/// A change that does not build (cert-manager writing the certificate before the key, say) keeps
/// the old context; the next poll that sees another change tries again. An unchanged broken state
/// is not retried every poll, so it is logged once.
public struct TLSCertificateWatcher: Sendable {
    public let provider: TLSContextProvider
    public let pollInterval: Duration
    private let logger: Logger

    public init(provider: TLSContextProvider, pollInterval: Duration = .seconds(10), logger: Logger) {
        self.provider = provider
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async {
        let paths = provider.configuration.watchedPaths
        var lastSeen = TLSFileFingerprint(paths: paths)
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return  // cancelled
            }
            let now = TLSFileFingerprint(paths: paths)
            guard now != lastSeen else { continue }
            lastSeen = now
            logger.info("tls files changed, reloading", metadata: ["files": "\(paths.joined(separator: ","))"])
            _ = try? provider.reload()  // logs itself; a failure keeps the old context
        }
    }
}
