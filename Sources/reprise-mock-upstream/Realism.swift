/// How closely an answer imitates a real upstream beyond its JSON shape: the TCP writes of a
/// stream, the comment lines between events, the pause before the terminating chunk, and the
/// texts. All off by default, which keeps the mock's bytes exactly as they always were.
struct Realism: Hashable, Sendable {
    /// Every SSE event leaves in 2-3 HTTP chunks, each written and flushed on its own with a
    /// short pause between them; one boundary falls inside a multi-byte UTF-8 character when the
    /// event has one, another between the two newlines that end the event.
    var splitWrites = false
    /// `: keep-alive` comment events before the first event and every third one (as DeepSeek
    /// and OpenRouter send while a model thinks).
    var keepAliveComments = false
    /// Milliseconds between the last event and the chunked body's terminating `0\r\n\r\n`,
    /// written on its own: a client that stops reading at `[DONE]` or `response.completed`
    /// hangs up before the body ended, as it does with the real APIs.
    var endDelayMilliseconds: Int64 = 0
    /// Texts hold multi-byte characters ("café", "日本語", an emoji) and DeepSeek models report
    /// DeepSeek's usage fields.
    var realisticAnswers = false

    /// `--realistic`: everything on, with this end delay unless one is given.
    static let realisticEndDelayMilliseconds: Int64 = 50

    static func realistic(endDelayMilliseconds: Int64?) -> Realism {
        Realism(
            splitWrites: true,
            keepAliveComments: true,
            endDelayMilliseconds: endDelayMilliseconds ?? realisticEndDelayMilliseconds,
            realisticAnswers: true
        )
    }

    /// The pause between the writes of one split event: long enough for the pieces to reach a
    /// local reader in separate reads most of the time, short enough for long streams.
    static let pauseBetweenSplitWrites: Int64 = 1
}
