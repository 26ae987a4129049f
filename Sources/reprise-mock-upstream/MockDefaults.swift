/// Behaviour from the command line; each field can be overridden per request by a header.
struct MockDefaults: Sendable {
    var latencyMilliseconds: Int64 = 0
    var chunkDelayMilliseconds: Int64 = 0
    var chunks: Int = 8
    var realism = Realism()
    /// `--status`: every API request is answered with this error status unless `X-Mock-Status`
    /// says otherwise (an upstream that is down, for a test with two mocks where one fails).
    var status: Int?
}
