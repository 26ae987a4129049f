/// A coding key for any string, used to list the keys a mapping really holds.
struct AnyConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Rejects keys the section does not define: a misspelt option must stop the program,
    /// not silently fall back to its default.
    func rejectUnknownKeys<Key: CodingKey & CaseIterable>(_ known: Key.Type) throws {
        let container = try self.container(keyedBy: AnyConfigKey.self)
        let allowed = Key.allCases.map(\.stringValue)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw ConfigError(
                keyPath: configKeyPath(codingPath + [key]),
                "unknown key; known keys here: \(allowed.joined(separator: ", "))"
            )
        }
    }
}

extension KeyedDecodingContainer {
    /// Decodes an optional key, keeping `fallback` when it is absent or null.
    func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
