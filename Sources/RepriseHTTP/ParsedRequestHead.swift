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

    /// The value of the first header named `name` (ASCII, compared without case).
    public func firstValue(named name: String) -> HeadByteRange? {
        fields.first { bytes.headBytes($0.name, equalIgnoringASCIICase: name) }?.value
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
                for index in 0 ..< range.count where Self.lowercased(raw[range.start + index]) != Self.lowercased(expected[index]) {
                    return false
                }
                return true
            }
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
