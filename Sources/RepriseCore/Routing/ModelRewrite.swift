/// Replaces the value of a JSON object's top-level `model` member, byte for byte around it: the
/// rest of the body reaches the upstream as the client wrote it.
public enum ModelRewrite {
    /// The body with every top-level `model` member set to `model`; nil when the body is not a
    /// JSON object or has no `model` (then it goes unchanged).
    public static func rewrite(body: [UInt8], model: String) -> [UInt8]? {
        let scanner = JSONFieldScanner(bytes: body)
        guard let members = scanner.members(ofObjectAt: 0) else { return nil }
        // Duplicate names: parsers differ on which wins, so every one is replaced.
        let ranges = members.filter { $0.name.elementsEqual("model".utf8) }.map(\.value)
        guard !ranges.isEmpty else { return nil }
        let replacement = Array(JSONString.quote(model).utf8)
        var output: [UInt8] = []
        output.reserveCapacity(body.count + replacement.count)
        var position = 0
        for range in ranges {
            output += body[position ..< range.lowerBound]
            output += replacement
            position = range.upperBound
        }
        output += body[position...]
        return output
    }

    /// The body's top-level `user` string (the `body:user` sticky identity).
    public static func user(body: [UInt8]) -> String? {
        let scanner = JSONFieldScanner(bytes: body)
        guard let members = scanner.members(ofObjectAt: 0), let range = scanner.member("user", in: members) else { return nil }
        return scanner.simpleString(range)
    }
}
