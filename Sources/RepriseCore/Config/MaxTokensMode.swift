/// What happens to a request asking for more output tokens than its key's `max_tokens`.
public enum MaxTokensMode: String, Sendable, Equatable, CaseIterable {
    /// The body is rewritten with the cap.
    case clamp
    /// The request is answered 400 (`max_tokens_exceeded`).
    case refuse
}
