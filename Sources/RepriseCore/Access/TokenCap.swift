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
        /// The body with every bound at most the cap.
        case rewritten(body: [UInt8], maxTokens: Int)
        /// `field` asks for `requested`, above the cap, and the key refuses such requests.
        case refused(field: String, requested: Int)
        /// A bound the cap cannot judge: not a number, or a member name with escapes (which an
        /// upstream would read as a bound this scan does not see).
        case invalid(field: String)
    }

    /// The smallest output bound the body asks for (nil: none), for the token estimate.
    public static func requested(body: [UInt8]) -> Int? {
        if case .unchanged(let maxTokens) = apply(cap: 0, mode: .clamp, body: body, normalizedPath: "") { return maxTokens }
        return nil
    }

    /// Every top-level member named like a bound counts, repeated ones too (parsers differ on
    /// which of two members wins, so none may exceed the cap); with a cap, a null bound takes
    /// the cap in place (null means the upstream's own maximum).
    public static func apply(cap: Int, mode: MaxTokensMode, body: [UInt8], normalizedPath: String) -> Outcome {
        let scanner = JSONFieldScanner(bytes: body)
        guard let members = scanner.members(ofObjectAt: 0) else { return .unchanged(maxTokens: nil) }
        var numbers: [(field: String, range: Range<Int>, value: Int)] = []
        var nulls: [Range<Int>] = []
        var boundsSeen = 0
        for member in members {
            if member.name.contains(UInt8(ascii: "\\")) {
                if cap > 0 { return .invalid(field: String(decoding: member.name, as: UTF8.self)) }
                continue
            }
            guard let field = fields.first(where: { member.name.elementsEqual($0.utf8) }) else { continue }
            boundsSeen += 1
            if scanner.isNull(member.value) {
                nulls.append(member.value)
                continue
            }
            // A number that is not an integer (1e9, 4096.0) still asks for that many.
            guard let value = Double(String(decoding: body[member.value], as: UTF8.self)), !value.isNaN else {
                if cap > 0 { return .invalid(field: field) }
                continue
            }
            // Saturated both ways: a client's -1e300 or 1e300 must not trap the conversion.
            let requested = value >= 9.0e18 ? Int.max : value <= 0 ? 0 : Int(value.rounded(.up))
            numbers.append((field, member.value, requested))
        }
        let smallest = numbers.map(\.value).min()
        guard cap > 0 else { return .unchanged(maxTokens: smallest) }
        if boundsSeen == 0 {
            guard CachePath.isGeneration(normalizedPath: normalizedPath) else { return .unchanged(maxTokens: nil) }
            let field = CachePath.isResponses(normalizedPath: normalizedPath) ? "max_output_tokens" : "max_tokens"
            return .rewritten(body: inserting(field: field, value: cap, into: body, members: members.count), maxTokens: cap)
        }
        let over = numbers.filter { $0.value > cap }
        if mode == .refuse, let first = over.first { return .refused(field: first.field, requested: first.value) }
        let replaced = over.map(\.range) + nulls
        guard !replaced.isEmpty else { return .unchanged(maxTokens: smallest) }
        var rewritten = body
        // From the last range back, so earlier ranges stay valid.
        for range in replaced.sorted(by: { $0.lowerBound > $1.lowerBound }) {
            rewritten.replaceSubrange(range, with: Array(String(cap).utf8))
        }
        return .rewritten(body: rewritten, maxTokens: min(cap, smallest ?? cap))
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
