import Foundation

/// A size in bytes, written as a number or with a unit: `512KiB`, `10MiB`, `1GiB`, `64KB`.
public struct ConfigByteSize: Hashable, Comparable, Sendable, Decodable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }
    public static func kibibytes(_ value: Int) -> Self { Self(bytes: value * 1024) }
    public static func mebibytes(_ value: Int) -> Self { Self(bytes: value * 1024 * 1024) }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bytes < rhs.bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            guard value >= 0 else {
                throw ConfigError(keyPath: configKeyPath(decoder.codingPath), "size must not be negative, got \(value)")
            }
            self.bytes = value
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self(parsing: text) else {
            throw ConfigError(
                keyPath: configKeyPath(decoder.codingPath),
                "'\(text)' is not a size (examples: 65536, 64KiB, 10MiB, 1GiB)"
            )
        }
        self = parsed
    }

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, factor: Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Int(number), value >= 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit.factor)
            guard !overflow else { return nil }
            self.bytes = product
            return
        }
        guard let value = Int(trimmed), value >= 0 else { return nil }
        self.bytes = value
    }

    public var description: String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)B"
    }
}
