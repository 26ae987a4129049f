import ArgumentParser
import NIOCore
import RepriseTLS

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
            X-Mock-Close-Delimited, and for realism X-Mock-Realistic, X-Mock-Split-Writes, \
            X-Mock-Keepalive-Comments (1 or 0), X-Mock-End-Delay-Ms. \
            Endpoints: POST /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses \
            (the Responses API, JSON and streamed); GET /v1/models, /v1/models/{id}; \
            a model name containing "reasoner" answers with its reasoning. \
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

    @Flag(help: "Write every stream event in 2-3 separate writes (HTTP chunks), one split inside a multi-byte character when the event has one.")
    var splitWrites = false

    @Flag(help: "Write ': keep-alive' SSE comment lines between stream events, as DeepSeek and OpenRouter do.")
    var keepaliveComments = false

    @Option(
        name: .customLong("end-delay-ms"),
        help: "Pause between a stream's last event ([DONE], response.completed) and the chunked body's terminating chunk, in milliseconds."
    )
    var endDelayMilliseconds: Int64?

    @Option(
        name: .customLong("tls-certificate"),
        help: "PEM certificate chain (leaf first): serve HTTPS instead of HTTP. Needs --tls-key."
    )
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key (unencrypted) of --tls-certificate.")
    var tlsKey: String?

    @Flag(help: "Behave like the real APIs: --split-writes, --keepalive-comments, --end-delay-ms 50 (unless given), texts with multi-byte characters, DeepSeek usage fields on deepseek-* models.")
    var realistic = false

    @Option(help: "Answer every API request with this error status (400-599) unless X-Mock-Status says otherwise.")
    var status: Int?

    func validate() throws {
        guard status.map({ (400...599).contains($0) }) ?? true else { throw ValidationError("--status must be in 400...599") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard threads.map({ $0 >= 1 }) ?? true else { throw ValidationError("--threads must be at least 1") }
        guard latencyMilliseconds >= 0, chunkDelayMilliseconds >= 0 else {
            throw ValidationError("--latency-ms and --chunk-delay-ms must not be negative")
        }
        guard chunks >= 1 else { throw ValidationError("--chunks must be at least 1") }
        guard endDelayMilliseconds.map({ $0 >= 0 }) ?? true else { throw ValidationError("--end-delay-ms must not be negative") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-certificate and --tls-key go together (both or neither)")
        }
    }

    /// The flags combined: `--realistic` turns everything on, the other flags add to it.
    private var realism: Realism {
        var realism = realistic ? Realism.realistic(endDelayMilliseconds: endDelayMilliseconds) : Realism()
        realism.splitWrites = realism.splitWrites || splitWrites
        realism.keepAliveComments = realism.keepAliveComments || keepaliveComments
        realism.endDelayMilliseconds = endDelayMilliseconds ?? realism.endDelayMilliseconds
        return realism
    }

    /// HTTPS with RepriseTLS's defaults (TLS 1.2+, modern ciphers, ALPN http/1.1), or nil for HTTP.
    private var tls: TLSServerConfiguration? {
        guard let tlsCertificate, let tlsKey else { return nil }
        return TLSServerConfiguration(certificateChainPath: tlsCertificate, privateKeyPath: tlsKey)
    }

    func run() throws {
        let server = MockServer(
            host: host,
            port: port,
            threads: threads ?? System.coreCount,
            defaults: MockDefaults(
                latencyMilliseconds: latencyMilliseconds,
                chunkDelayMilliseconds: chunkDelayMilliseconds,
                chunks: chunks,
                realism: realism,
                status: status
            ),
            tls: tls
        )
        try server.run()
    }
}
