/// Behaviour from the command line; each field can be overridden per request by a header.
struct MockDefaults: Sendable {
    var latencyMilliseconds: Int64 = 0
    var chunkDelayMilliseconds: Int64 = 0
    var chunks: Int = 8
    var realism = Realism()
}
