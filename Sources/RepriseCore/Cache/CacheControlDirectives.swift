/// The request directives of `Cache-Control` that Reprise honours (RFC 9111 §5.2.1).
///
/// Parsing is tolerant: directive names are case-insensitive, spaces around `,` and `=` are
/// allowed, values may be quoted (`max-age="60"`). Unknown directives are ignored. An invalid
/// `max-age` value is ignored; when `max-age` appears more than once the smallest wins (the
/// most restrictive reading). A directive without a name (`=`, `=60`, `,,`) is ignored like an
/// unknown one.
public struct CacheControlDirectives: Sendable, Equatable {
    /// `no-cache`: do not answer from cache (the fresh answer may still be stored).
    public var noCache = false
    /// `no-store`: never store the answer (a cached answer may still be served).
    public var noStore = false
    /// `max-age=N`: accept only a cached answer at most N seconds old.
    public var maxAge: Int?

    public init(noCache: Bool = false, noStore: Bool = false, maxAge: Int? = nil) {
        self.noCache = noCache
        self.noStore = noStore
        self.maxAge = maxAge
    }

    /// Parses every `Cache-Control` field value of a request (pass all of them; they combine).
    public init<Values: Sequence>(parsing values: Values) where Values.Element: StringProtocol {
        for value in values {
            for directive in Self.split(String(value)) {
                // Not `split`: it drops empty pieces, so `=` alone would have no name part.
                let equals = directive.firstIndex(of: "=")
                let name = directive[..<(equals ?? directive.endIndex)].trimmingSpaces.lowercased()
                var argument = equals.map { directive[directive.index(after: $0)...].trimmingSpaces }
                if let quoted = argument, quoted.count >= 2, quoted.hasPrefix("\""), quoted.hasSuffix("\"") {
                    argument = String(quoted.dropFirst().dropLast())
                }
                switch name {
                case "no-cache": noCache = true
                case "no-store": noStore = true
                case "max-age":
                    // delta-seconds (RFC 9111 §1.2.2): digits only; too large saturates.
                    guard let argument, !argument.isEmpty, argument.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { continue }
                    let seconds = Int(argument) ?? Int(Int32.max)
                    maxAge = min(maxAge ?? seconds, seconds)
                default: continue
                }
            }
        }
    }

    public init(parsing value: String?) {
        self.init(parsing: value.map { [$0] } ?? [])
    }

    /// Splits on commas outside quoted strings.
    static func split(_ value: String) -> [Substring] {
        var parts: [Substring] = []
        var inQuotes = false
        var start = value.startIndex
        var index = value.startIndex
        while index < value.endIndex {
            let character = value[index]
            if character == "\"" { inQuotes.toggle() }
            if character == ",", !inQuotes {
                parts.append(value[start ..< index])
                start = value.index(after: index)
            }
            index = value.index(after: index)
        }
        parts.append(value[start...])
        return parts.filter { !$0.trimmingSpaces.isEmpty }
    }
}
