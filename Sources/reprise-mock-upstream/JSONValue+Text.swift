extension JSONValue {
    /// The value written back as JSON text, members sorted by name (a parsed object keeps no
    /// order), so an echoed request field is the same bytes on every run.
    var jsonText: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value):
            if let integer = intValue { return String(integer) }
            return value.isFinite ? "\(value)" : "null"
        case .string(let value): return JSONText.quoted(value)
        case .array(let elements): return "[" + elements.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let members):
            let written = members.keys.sorted().map { JSONText.quoted($0) + ":" + members[$0]!.jsonText }
            return "{" + written.joined(separator: ",") + "}"
        }
    }

    /// A number written as a float (`1.0`), as the Responses API echoes `temperature`.
    var floatText: String? {
        guard case .number(let value) = self, value.isFinite else { return nil }
        return "\(value)"
    }
}
