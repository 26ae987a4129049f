import ArgumentParser
import NIOCore

/// `reprise-mock-upstream`: a deterministic OpenAI/DeepSeek-compatible upstream with fault
/// injection, for tests, benchmarks and demos.
struct MockUpstreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprise-mock-upstream",
        abstract: "A deterministic OpenAI-compatible upstream with fault injection.",
        discussion: """
            Answers are derived from a hash of the request body. Per-request headers override \
            the defaults: X-Mock-Latency-Ms, X-Mock-Chunk-Delay-Ms, X-Mock-Chunks, X-Mock-Status, \
            X-Mock-Retry-After, X-Mock-Fail-Times + X-Mock-Scenario, X-Mock-Cut-After, X-Mock-Hang, \
            X-Mock-Close-Delimited. \
            GET /_mock/stats, POST /_mock/reset, GET /_mock/last-request.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: the OS picks one; the listening line tells which).")
    var port = 9090

    @Option(help: "Event loop threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("latency-ms"), help: "Delay before each response head, in milliseconds.")
    var latencyMilliseconds: Int64 = 0

    @Option(name: .customLong("chunk-delay-ms"), help: "Delay between stream events, in milliseconds.")
    var chunkDelayMilliseconds: Int64 = 0

    @Option(help: "Content chunks in a streamed answer.")
    var chunks = 8

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard threads.map({ $0 >= 1 }) ?? true else { throw ValidationError("--threads must be at least 1") }
        guard latencyMilliseconds >= 0, chunkDelayMilliseconds >= 0 else {
            throw ValidationError("--latency-ms and --chunk-delay-ms must not be negative")
        }
        guard chunks >= 1 else { throw ValidationError("--chunks must be at least 1") }
    }

    func run() throws {
        let server = MockServer(
            host: host,
            port: port,
            threads: threads ?? System.coreCount,
            defaults: MockDefaults(
                latencyMilliseconds: latencyMilliseconds,
                chunkDelayMilliseconds: chunkDelayMilliseconds,
                chunks: chunks
            )
        )
        try server.run()
    }
}
