import RepriseCore

/// The SSE parser and the stream recorder on arbitrary bytes cut at arbitrary points (the first
/// input byte seeds the cutting): never trap; the parser yields the same events however the
/// bytes are cut; a recorded entry converts to the other shape and back without trapping
/// (conversion errors are allowed, they make a miss).
enum SSEFuzz {
    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let seed = input.byte()
        let stream = input.rest
        let pieces = FuzzInput.pieces(of: stream, seed: seed)

        var whole = SSEParser(maxLineBytes: 4096)
        let wholeEvents = try? whole.feed(stream)
        var cut = SSEParser(maxLineBytes: 4096)
        var cutEvents: [SSEEvent]? = []
        for piece in pieces {
            guard let events = try? cut.feed(piece) else { cutEvents = nil; break }
            cutEvents?.append(contentsOf: events)
        }
        if let wholeEvents, let cutEvents {
            precondition(wholeEvents == cutEvents, "the events depend on where the stream was cut")
        }

        var recorder = StreamRecorder(maxBytes: 1 << 16, maxLineBytes: 4096)
        for piece in pieces { recorder.feed(piece) }
        let headers = [(name: "Content-Type", value: "text/event-stream")]
        if let entry = recorder.finish(status: 200, headers: headers, nowMs: 0, ttlMs: 1000), case .events(let events) = entry.body {
            _ = SSEEncoder.encodeStream(events: events)
            if let document = try? StreamAssembler.assemble(events: events) {
                _ = try? StreamSynthesizer.synthesize(json: document, includeUsage: true)
            }
        }
        // The payload as a non-streamed answer, and through the synthesizer.
        _ = CacheEntry.forJSONResponse(status: 200, headers: headers, body: stream, nowMs: 0, ttlMs: 1000, maxBytes: 1 << 16)
        _ = try? StreamSynthesizer.synthesize(json: stream, includeUsage: seed & 1 == 0)
    }
}
