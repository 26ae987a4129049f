import Logging
import NIOCore
import NIOConcurrencyHelpers

/// Holds the current `TLSServerContext`. New connections take `current`; connections already
/// open keep the context they started with. `reload()` (for SIGHUP, or the file watcher) builds a
/// new context from the configured files and swaps it in only if it builds: a broken pair keeps
/// the old context serving, logs why and throws.
public final class TLSContextProvider: Sendable {
    public let configuration: TLSServerConfiguration
    private let logger: Logger
    private let state: NIOLockedValueBox<TLSServerContext>
    /// Serializes reloads (watcher and SIGHUP may race); `current` never waits on it.
    private let reloadLock = NIOLock()

    /// Builds the first context; throws (naming the file) if the configuration is unusable, which
    /// should stop start-up.
    public init(configuration: TLSServerConfiguration, logger: Logger) throws(TLSConfigurationError) {
        self.configuration = configuration
        self.logger = logger
        let context = try TLSServerContext(configuration: configuration)
        self.state = NIOLockedValueBox(context)
        logger.info("tls context loaded", metadata: Self.metadata(of: context))
    }

    public var current: TLSServerContext {
        state.withLockedValue { $0 }
    }

    /// A handler for a newly accepted connection, using the current context.
    public func makeHandler(handshakeTimeout: TimeAmount? = .seconds(10)) throws(TLSConnectionError) -> OpenSSLServerHandler {
        try OpenSSLServerHandler(context: current, handshakeTimeout: handshakeTimeout)
    }

    /// Rebuilds the context from the configured files. Blocking file I/O: call it off the event
    /// loop. On failure the previous context stays current and the error is logged and thrown.
    @discardableResult
    public func reload() throws(TLSConfigurationError) -> TLSServerContext {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        do throws(TLSConfigurationError) {
            let context = try TLSServerContext(configuration: configuration)
            state.withLockedValue { $0 = context }
            logger.info("tls context reloaded", metadata: Self.metadata(of: context))
            return context
        } catch {
            logger.error("tls reload refused, keeping the previous certificate", metadata: ["error": "\(error)"])
            throw error
        }
    }

    private static func metadata(of context: TLSServerContext) -> Logger.Metadata {
        [
            "certificate": "\(context.configuration.certificateChainPath)",
            "subject": "\(context.certificateSubject)",
            "serial": "\(context.certificateSerial)",
        ]
    }
}
