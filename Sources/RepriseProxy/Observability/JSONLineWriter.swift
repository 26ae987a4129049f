import Foundation

/// Appends JSON members to a line being built, escaping strings: the access log's encoder
/// (no dictionary, no `JSONSerialization`: a line costs a few hundred nanoseconds).
struct JSONLineWriter {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func string(_ name: StaticString, _ value: some StringProtocol) {
        key(name)
        appendQuoted(value.utf8)
    }

    mutating func string(_ name: StaticString, bytes value: some Collection<UInt8>) {
        key(name)
        appendQuoted(value)
    }

    mutating func integer(_ name: StaticString, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Milliseconds with microsecond precision, from nanoseconds.
    mutating func milliseconds(_ name: StaticString, nanoseconds: Int64) {
        key(name)
        let micros = max(0, nanoseconds) / 1000
        bytes.append(contentsOf: String(micros / 1000).utf8)
        bytes.append(UInt8(ascii: "."))
        let fraction = String(micros % 1000)
        for _ in fraction.utf8.count ..< 3 { bytes.append(UInt8(ascii: "0")) }
        bytes.append(contentsOf: fraction.utf8)
    }

    mutating func raw(_ name: StaticString, _ value: StaticString) {
        key(name)
        bytes.append(contentsOf: UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount))
    }

    /// Closes the object and ends the line.
    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    /// A JSON string: `"` and `\` escaped, control bytes as `\u00XX`, bytes that are not valid
    /// UTF-8 replaced (a body can hold anything; the log line must stay JSON).
    private mutating func appendQuoted(_ value: some Collection<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        let text = String(decoding: value, as: UTF8.self)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: "\\r".utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: "\\t".utf8)
            case 0 ..< 0x20, 0x7F:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
