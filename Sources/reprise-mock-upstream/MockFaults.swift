import NIOHTTP1

/// Fault injection read from `X-Mock-*` request headers (names case-insensitive).
struct MockFaults {
    /// `X-Mock-Latency-Ms`: delay before the response head.
    var latencyMilliseconds: Int64?
    /// `X-Mock-Chunk-Delay-Ms`: delay between stream events.
    var chunkDelayMilliseconds: Int64?
    /// `X-Mock-Chunks`: content pieces in a stream.
    var chunks: Int?
    /// `X-Mock-Status`: answer with this error status (OpenAI error body).
    var status: Int?
    /// `X-Mock-Retry-After`: seconds in `Retry-After` (429 always carries one, default 1).
    var retryAfterSeconds: Int?
    /// `X-Mock-Fail-Times` + `X-Mock-Scenario`: the first N requests of a scenario fail.
    var failTimes: Int?
    var scenario: String?
    /// `X-Mock-Cut-After`: stream N events, or half the JSON body, then close the connection.
    var cutAfter: Int?
    /// `X-Mock-Hang: 1`: never answer.
    var hang = false
    /// `X-Mock-Close-Delimited: 1`: a JSON answer without `Content-Length`, ended by closing the
    /// connection (as HTTP/1.0-style servers do).
    var closeDelimited = false
    /// `X-Mock-Marker: TEXT`: the answer carries `"mock_marker":"TEXT"` (in the JSON document,
    /// or in every stream event but `[DONE]`), so a test can tell whose upstream call produced
    /// an answer a client received.
    var marker: String?
    /// `X-Mock-Usage: RAW`: the answer's `usage` value is exactly this JSON text (huge, negative
    /// or non-integer token counts).
    var usageJSON: String?
    /// `X-Mock-Error-Body-200: 1`: status 200 whose body is an OpenAI error document.
    var errorBodyWith200 = false
    /// `X-Mock-Header-CRLF: fold|cr|lf`: the answer carries a header whose value holds an
    /// obs-fold (CRLF + space), a bare CR, or a bare LF followed by a second header line.
    var headerLineBreak: HeaderLineBreak?
    /// `X-Mock-Header-Bytes: N`: the answer carries an `x-mock-big` header whose value is N
    /// bytes long (an upstream head over any parser's limit).
    var bigHeaderBytes: Int?
    /// `X-Mock-Truncate-Chunk: 1`: a streamed answer stops inside a chunk (its size line
    /// announces more bytes than follow) and the connection closes.
    var truncateChunk = false
    /// `X-Mock-Realistic: 1|0`: all of `Realism` on (end delay 50 ms unless
    /// `X-Mock-End-Delay-Ms` says otherwise) or off, whatever the command line said.
    var realistic: Bool?
    /// `X-Mock-Split-Writes: 1|0`: each stream event in 2-3 separate writes.
    var splitWrites: Bool?
    /// `X-Mock-Keepalive-Comments: 1|0`: `: keep-alive` comments between stream events.
    var keepAliveComments: Bool?
    /// `X-Mock-End-Delay-Ms: N`: pause before a stream's terminating chunk.
    var endDelayMilliseconds: Int64?
    /// `X-Mock-Raw-Response: BASE64`: these bytes are the whole response, then the connection
    /// closes (malformed heads, chunk sizes, lengths: anything a test can spell).
    var rawResponse: [UInt8]?

    /// Faults that change the answer's bytes: such answers bypass the per-connection cache.
    var altersAnswer: Bool {
        marker != nil || usageJSON != nil || errorBodyWith200 || headerLineBreak != nil || bigHeaderBytes != nil
            || truncateChunk
    }

    init(headers: HTTPHeaders) {
        for (name, value) in headers where Self.hasMockPrefix(name) {
            let number = Int(value.trimmingSpaces())
            switch name.lowercased() {
            case "x-mock-latency-ms": latencyMilliseconds = number.map { Int64(max(0, $0)) }
            case "x-mock-chunk-delay-ms": chunkDelayMilliseconds = number.map { Int64(max(0, $0)) }
            case "x-mock-chunks": chunks = number.map { max(1, $0) }
            case "x-mock-status": status = number
            case "x-mock-retry-after": retryAfterSeconds = number.map { max(0, $0) }
            case "x-mock-fail-times": failTimes = number.map { max(0, $0) }
            case "x-mock-scenario": scenario = value.trimmingSpaces()
            case "x-mock-cut-after": cutAfter = number.map { max(0, $0) }
            case "x-mock-hang": hang = value.trimmingSpaces() != "0" && !value.isEmpty
            case "x-mock-close-delimited": closeDelimited = value.trimmingSpaces() != "0" && !value.isEmpty
            case "x-mock-marker": marker = value.trimmingSpaces()
            case "x-mock-usage": usageJSON = value.trimmingSpaces()
            case "x-mock-error-body-200": errorBodyWith200 = value.trimmingSpaces() != "0" && !value.isEmpty
            case "x-mock-header-crlf": headerLineBreak = HeaderLineBreak(rawValue: value.trimmingSpaces().lowercased())
            case "x-mock-header-bytes": bigHeaderBytes = number.map { min(max(0, $0), 16 << 20) }
            case "x-mock-truncate-chunk": truncateChunk = value.trimmingSpaces() != "0" && !value.isEmpty
            case "x-mock-raw-response": rawResponse = Base64.decode(value.trimmingSpaces())
            case "x-mock-realistic": realistic = Self.flag(value)
            case "x-mock-split-writes": splitWrites = Self.flag(value)
            case "x-mock-keepalive-comments": keepAliveComments = Self.flag(value)
            case "x-mock-end-delay-ms": endDelayMilliseconds = number.map { Int64(max(0, $0)) }
            default: break
            }
        }
    }

    /// The realism of this answer: the command line's, overridden by the realism headers.
    func realism(defaults: Realism) -> Realism {
        var realism = defaults
        if let realistic {
            realism = realistic ? .realistic(endDelayMilliseconds: endDelayMilliseconds) : Realism()
        }
        if let splitWrites { realism.splitWrites = splitWrites }
        if let keepAliveComments { realism.keepAliveComments = keepAliveComments }
        if let endDelayMilliseconds { realism.endDelayMilliseconds = endDelayMilliseconds }
        return realism
    }

    /// A `1|0` header: on unless empty or `0`.
    private static func flag(_ value: String) -> Bool {
        let trimmed = value.trimmingSpaces()
        return !trimmed.isEmpty && trimmed != "0"
    }

    /// Checks the `x-mock-` prefix without allocating: most requests carry no mock header.
    private static func hasMockPrefix(_ name: String) -> Bool {
        let prefix: StaticString = "x-mock-"
        var utf8 = name.utf8.makeIterator()
        let expected = prefix.utf8Start
        for offset in 0..<prefix.utf8CodeUnitCount {
            guard var byte = utf8.next() else { return false }
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            guard byte == expected[offset] else { return false }
        }
        return true
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }
}
