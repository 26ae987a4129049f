import Prometheus

/// The handles one `RequestSeries` updates when a request ends: its request counter, its
/// latency, first-byte and overhead histograms, and its token counters.
final class RequestHandles: Sendable {
    let requests: Counter
    let latency: ValueHistogram
    let timeToFirstByte: ValueHistogram
    let overhead: ValueHistogram
    let promptTokens: Counter
    let completionTokens: Counter

    init(requests: Counter, latency: ValueHistogram, timeToFirstByte: ValueHistogram, overhead: ValueHistogram,
         promptTokens: Counter, completionTokens: Counter) {
        self.requests = requests
        self.latency = latency
        self.timeToFirstByte = timeToFirstByte
        self.overhead = overhead
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}
