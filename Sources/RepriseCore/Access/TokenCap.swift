/// A key's `max_tokens` cap applied to a request body: the output-token fields above the cap
/// are clamped (the body rewritten) or refused; a body naming none gets the cap added (an
/// uncapped request could ask the upstream's maximum). Only JSON object bodies of generation
/// paths are capped: anything else goes as sent (the upstream refuses what it cannot read).
public enum TokenCap {
    /// The fields that bound a request's output, by API.
    public static let fields = ["max_tokens", "max_completion_tokens", "max_output_tokens"]

    public enum Outcome: Equatable {
        /// Nothing to change.
        case unchanged(maxTokens: Int?)
        /// The body with every field at most the cap.
        case rewritten(body: [UInt8], maxTokens: Int)
        /// `field` asks for `requested`, above the cap, and the key refuses such requests.
        case refused(field: String, requested: Int)
    }

    /// The smallest output bound the body asks for (nil: none), for the token estimate.
    public static func requested(body: [UInt8]) -> Int? {
        if case .unchanged(let maxTokens) = apply(cap: 0, mode: .clamp, body: body, normalizedPath: "") { return maxTokens }
        return nil
    }

    public static func apply(cap: Int, mode: MaxTokensMode, body: [UInt8], normalizedPath: String) -> Outcome {
        let scanner = JSONFieldScanner(bytes: body)
        guard let members = scanner.members(ofObjectAt: 0) else { return .unchanged(maxTokens: nil) }
        var present: [(field: String, range: Range<Int>, value: Int)] = []
        var nullRange: Range<Int>?
        for field in fields {
            guard let range = scanner.member(field, in: members) else { continue }
            if scanner.isNull(range) {
                nullRange = nullRange ?? range
                continue
            }
            // A number that is not an integer (1e9, 4096.0) still asks for that many.
            guard let value = Double(String(decoding: body[range], as: UTF8.self)) else { continue }
            present.append((field, range, value >= Double(Int.max) ? Int.max : Int(value.rounded(.up))))
        }
        guard cap > 0 else { return .unchanged(maxTokens: present.map(\.value).min()) }
        if present.isEmpty {
            guard CachePath.isGeneration(normalizedPath: normalizedPath) else { return .unchanged(maxTokens: nil) }
            // `"max_tokens": null` takes the cap in place: a second member of the same name
            // would leave the meaning to the upstream's parser.
            if let nullRange {
                var rewritten = body
                rewritten.replaceSubrange(nullRange, with: Array(String(cap).utf8))
                return .rewritten(body: rewritten, maxTokens: cap)
            }
            let field = CachePath.isResponses(normalizedPath: normalizedPath) ? "max_output_tokens" : "max_tokens"
            return .rewritten(body: inserting(field: field, value: cap, into: body, members: members.count), maxTokens: cap)
        }
        let over = present.filter { $0.value > cap }
        guard let first = over.first else { return .unchanged(maxTokens: present.map(\.value).min()) }
        if mode == .refuse { return .refused(field: first.field, requested: first.value) }
        var rewritten = body
        // From the last range back, so earlier ranges stay valid.
        for item in over.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            rewritten.replaceSubrange(item.range, with: Array(String(cap).utf8))
        }
        return .rewritten(body: rewritten, maxTokens: min(cap, present.map(\.value).min() ?? cap))
    }

    /// `{"field":N,` + the rest of the object (`{"field":N}` when it was empty).
    private static func inserting(field: String, value: Int, into body: [UInt8], members: Int) -> [UInt8] {
        let open = JSONFieldScanner(bytes: body).skipWhitespace(0)
        let member = "\"\(field)\":\(value)" + (members > 0 ? "," : "")
        var out = body
        out.insert(contentsOf: Array(member.utf8), at: open + 1)
        return out
    }
}
