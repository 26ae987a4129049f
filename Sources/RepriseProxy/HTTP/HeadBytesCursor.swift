#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Appends a response head's lines to writable memory of a `ByteBuffer` reserved once
/// (`ByteBuffer.writeHeadBytes`): a hit's per-response lines (age, request id, variant,
/// connection, blank line) are one reservation and a few `memcpy`s, not one NIO write call
/// each (`writeStaticString` took ~200 instructions for five bytes).
///
/// Every append checks the room left: running past it traps instead of writing out of bounds
/// (the caller reserves the lines' maximum length).
struct HeadBytesCursor {
    private let base: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawBufferPointer) {
        self.base = base
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= base.count - count, "response head line past its reserved room")
        guard let source = bytes.baseAddress, let target = base.baseAddress else { return }
        memcpy(target + count, source, bytes.count)
        count += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// `value` in decimal digits, as `String(value)` spells it.
    mutating func appendDecimal(_ value: Int) {
        if value < 0 { append("-") }
        appendDigits(of: UInt64(value.magnitude), radix: 10)
    }

    /// `value` in lowercase hexadecimal digits, as `String(value, radix: 16)` spells it.
    mutating func appendHex(_ value: UInt64) {
        appendDigits(of: value, radix: 16)
    }

    private mutating func appendDigits(of value: UInt64, radix: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // the 20 decimal digits of UInt64.max
        var rest = value
        withUnsafeMutableBytes(of: &digits) { scratch in
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = Self.digitBytes[Int(rest % radix)]
                rest /= radix
            } while rest > 0
            append(UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }

    private static let digitBytes: [UInt8] = Array("0123456789abcdef".utf8)

    /// The head's last lines: `connection` when it must be said (closing, or kept alive for an
    /// HTTP/1.0 client, which assumes close), then the blank line. At most 26 bytes.
    mutating func appendEnd(keepAlive: Bool, announceKeepAlive: Bool) {
        if !keepAlive {
            append("connection: close\r\n")
        } else if announceKeepAlive {
            append("connection: keep-alive\r\n")
        }
        append("\r\n")
    }
}

extension ByteBuffer {
    /// Writes up to `maximum` bytes through a `HeadBytesCursor` in one reservation.
    mutating func writeHeadBytes(maximum: Int, _ write: (inout HeadBytesCursor) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: maximum) { raw in
            var cursor = HeadBytesCursor(raw)
            write(&cursor)
            return cursor.count
        }
    }
}
