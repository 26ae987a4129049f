import Foundation

/// A duration written as `250ms`, `10s`, `5m`, `1h` or a bare number of seconds.
public struct ConfigDuration: Hashable, Comparable, Sendable, Decodable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func milliseconds(_ value: Int64) -> Self { Self(nanoseconds: value * 1_000_000) }
    public static func seconds(_ value: Int64) -> Self { Self(nanoseconds: value * 1_000_000_000) }

    public var milliseconds: Int64 { nanoseconds / 1_000_000 }
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            guard let parsed = Self.fromSeconds(seconds) else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath), "duration must be a non-negative number of seconds, got \(seconds)")
            }
            self = parsed
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self(parsing: text) else {
            throw ConfigError(
                keyPath: configKeyPath(decoder.codingPath),
                "'\(text)' is not a duration (examples: 250ms, 10s, 5m, 1h)"
            )
        }
        self = parsed
    }

    private static func fromSeconds(_ seconds: Double) -> Self? {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return nil }
        return Self(nanoseconds: Int64((seconds * 1e9).rounded()))
    }

    /// Parses `<number><unit>` with unit one of ms, s, m, h (a bare number means seconds).
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            guard let value = Double(number), let parsed = Self.fromSeconds(value * unit.seconds) else { return nil }
            self = parsed
            return
        }
        guard let value = Double(trimmed), let parsed = Self.fromSeconds(value) else { return nil }
        self = parsed
    }

    public var description: String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        return "\(milliseconds)ms"
    }
}
