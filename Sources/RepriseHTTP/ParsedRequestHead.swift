import NIOCore

/// A request head as received: the bytes from the request line to the blank line, and where
/// each part lies in them. Nothing is decoded into a `String` until asked for.
public struct ParsedRequestHead: Equatable {
    /// The head's bytes, a slice of the read buffer (request line through the blank line).
    public let bytes: ByteBuffer
    public let method: HeadByteRange
    public let target: HeadByteRange
    public let versionMajor: Int
    public let versionMinor: Int
    public let fields: [HeaderFieldRange]
    public let framing: RequestFraming
    /// llhttp's method number (`llhttp_method_t`), for `HTTPMethod` without reading the bytes.
    let methodCode: UInt8

    /// The bytes of `range` decoded as UTF-8 (invalid sequences replaced, as NIO does).
    public func string(_ range: HeadByteRange) -> String {
        bytes.headString(range)
    }

    /// The value of the first header named `name` (ASCII, compared without case). One pass
    /// over the fields with both byte views open: most names differ in length and cost one
    /// comparison.
    public func firstValue(named name: String) -> HeadByteRange? {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeReadableBytes { raw in
                for field in fields where field.name.count == wanted.count
                    && ByteBuffer.equalIgnoringASCIICase(UnsafeRawBufferPointer(rebasing: raw[field.name.start ..< field.name.end]), wanted) {
                    return field.value
                }
                return nil
            }
        }
    }

    /// True when `range` holds `text` (ASCII, compared without case).
    public func bytes(_ range: HeadByteRange, equalIgnoringASCIICase text: String) -> Bool {
        bytes.headBytes(range, equalIgnoringASCIICase: text)
    }
}

extension ParsedTrailers {
    public func string(_ range: HeadByteRange) -> String {
        bytes.headString(range)
    }
}

extension ByteBuffer {
    func headString(_ range: HeadByteRange) -> String {
        withUnsafeReadableBytes { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[range.start ..< range.end]), as: UTF8.self)
        }
    }

    func headBytes(_ range: HeadByteRange, equalIgnoringASCIICase text: String) -> Bool {
        var text = text
        return text.withUTF8 { expected in
            guard expected.count == range.count else { return false }
            return withUnsafeReadableBytes { raw in
                Self.equalIgnoringASCIICase(UnsafeRawBufferPointer(rebasing: raw[range.start ..< range.end]), expected)
            }
        }
    }

    static func equalIgnoringASCIICase(_ bytes: UnsafeRawBufferPointer, _ expected: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == expected.count else { return false }
        for index in 0 ..< bytes.count where lowercased(bytes[index]) != lowercased(expected[index]) {
            return false
        }
        return true
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
