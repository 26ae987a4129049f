/// Whether a body names only models a key may use. Every top-level `model` member counts
/// (parsers differ on which duplicate wins), and a member name with escapes (`"mod\u0065l"` is
/// `model` to the upstream) or a model that is not a plain string is refused: the check must
/// see what the upstream will read.
public enum ModelRestriction {
    public enum Verdict: Equatable {
        case allowed
        /// The model (or member) refused, as the client wrote it.
        case refused(String)
    }

    public static func check(body: [UInt8], allowed models: Set<String>) -> Verdict {
        guard !models.isEmpty else { return .allowed }
        let scanner = JSONFieldScanner(bytes: body)
        // Not a JSON object: nothing an upstream would run a model for.
        guard let members = scanner.members(ofObjectAt: 0) else { return .allowed }
        for member in members {
            if member.name.contains(UInt8(ascii: "\\")) { return .refused(String(decoding: member.name, as: UTF8.self)) }
            guard member.name.elementsEqual("model".utf8) else { continue }
            guard let model = scanner.simpleString(member.value), models.contains(model) else {
                return .refused(String(decoding: body[member.value].prefix(128), as: UTF8.self))
            }
        }
        return .allowed
    }
}
