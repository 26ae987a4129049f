import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import RepriseCore
import RepriseProxy
import ServiceLifecycle

@main
struct RepriseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprise",
        abstract: "Reprise: a transparent caching reverse proxy for OpenAI/DeepSeek-compatible LLM APIs.",
        discussion: """
            Point your existing SDK at http://localhost:PORT/v1: repeated prompts are answered from cache, \
            streamed answers are recorded and replayed, and upstream calls are made resilient.
            """,
        version: RepriseBuild.version,
        subcommands: [Serve.self, CheckConfig.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the commands that read a configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML). Without it, the built-in defaults of config/reprise.yaml apply.")
    var config: String?

    @Option(name: .long, help: "Listen address, overriding server.listen (e.g. 127.0.0.1:8080).")
    var listen: String?

    @Option(name: .long, help: "Upstream base URL, overriding upstream.url (e.g. https://api.deepseek.com).")
    var upstream: String?

    /// The configuration file with the command-line overrides applied and validated.
    func load() throws -> RepriseConfig {
        var loaded = try config.map { try ConfigLoader.load(file: $0) } ?? RepriseConfig()
        if let listen {
            guard let address = ListenAddress(parsing: listen) else {
                throw ValidationError("--listen: '\(listen)' is not a listen address (example: 127.0.0.1:8080)")
            }
            loaded.server.listen = address
        }
        if let upstream {
            guard let url = UpstreamURL(parsing: upstream) else {
                throw ValidationError("--upstream: '\(upstream)' is not an http:// or https:// URL")
            }
            loaded.upstream.url = url
        }
        return loaded
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy (the default command).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config: RepriseConfig
        do {
            config = try options.load()
        } catch let error as ConfigFileError {
            FileHandle.standardError.write(Data("reprise: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        LoggingSetup.bootstrap(config.logging)
        let logger = Logger(label: "reprise")
        let server: ProxyServer
        do {
            server = try ProxyServer(config: config, logger: logger, configFile: options.config)
        } catch let error as ConfigFileError {
            FileHandle.standardError.write(Data("reprise: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if let registry = server.metricsRegistry {
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file and exit: 0 when it is usable, 78 with every problem listed otherwise."
    )

    @Argument(help: "The configuration file to check.")
    var path: String

    func run() throws {
        do {
            let config = try ConfigLoader.load(file: path)
            // Also checks what the file names: certificate files, the Redis URL.
            _ = try ProxyServer(config: config, logger: Logger(label: "reprise.check-config"))
            print("\(path): OK (listen \(config.server.listen), upstream \(config.upstream.url))")
        } catch let error as ConfigFileError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
