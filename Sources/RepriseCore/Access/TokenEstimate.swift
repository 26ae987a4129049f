/// Tokens a request is counted for before its answer: the output it may ask for plus the
/// prompt at about 4 bytes per token (the body's length: a rough, cheap upper bound that the
/// answer's `usage` corrects).
public enum TokenEstimate {
    public static func tokens(bodyBytes: Int, maxTokens: Int?) -> Int {
        (bodyBytes + 3) / 4 + min(max(0, maxTokens ?? 0), 1 << 40)
    }
}
