/// Token counts read from the end of an answer as it went to the client, for the token metrics:
/// the last `"usage": {...}` object in the bytes (a JSON answer's `usage`, a stream's final usage
/// chunk, a Responses stream's `response.completed`). The caller keeps only the answer's tail
/// (`tailBytes`): usage comes last in every format the upstreams send.
public enum AnswerUsage {
    /// How much of an answer's end the caller keeps for `read(tail:)`.
    public static let tailBytes = 8192

    /// The last usage object in `tail` with a prompt count, or nil (no usage, `null`, cut).
    public static func read(tail: [UInt8]) -> CacheEntry.Usage? {
        let needle = Array("\"usage\"".utf8)
        var end = tail.count
        let scanner = JSONFieldScanner(bytes: tail)
        while let found = lastIndex(of: needle, in: tail, before: end) {
            var index = scanner.skipWhitespace(found + needle.count)
            if index < tail.count, tail[index] == UInt8(ascii: ":") {
                index = scanner.skipWhitespace(index + 1)
                if index < tail.count, tail[index] == UInt8(ascii: "{"),
                   let usage = ResponseFields.usage(scanner: scanner, objectAt: index) {
                    return usage
                }
                // `"usage": null` in a chunk before the usage chunk is not the answer's last word
                // when a later one has counts; an earlier one cannot be later.
                return nil
            }
            end = found
        }
        return nil
    }

    private static func lastIndex(of needle: [UInt8], in bytes: [UInt8], before end: Int) -> Int? {
        var start = end - needle.count
        while start >= 0 {
            if bytes[start] == needle[0], bytes[start ..< start + needle.count].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }
}
