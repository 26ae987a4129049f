import NIOCore
import Testing
@testable import RepriseProxy

@Suite struct HeadBytesCursorTests {
    static func written(maximum: Int = 64, _ write: (inout HeadBytesCursor) -> Void) -> String {
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n")
        buffer.writeHeadBytes(maximum: maximum, write)
        return String(buffer: buffer)
    }

    @Test(arguments: [0, 7, 10, 86_400, -1, -90, Int.max, Int.min])
    func decimalsAreSpelledAsStringDoes(value: Int) {
        #expect(Self.written { $0.appendDecimal(value) } == "HTTP/1.1 200 OK\r\n" + String(value))
    }

    @Test(arguments: [UInt64(0), 0xF, 0x10, 0xBEEF, UInt64.max])
    func hexIsSpelledAsStringDoes(value: UInt64) {
        #expect(Self.written { $0.appendHex(value) } == "HTTP/1.1 200 OK\r\n" + String(value, radix: 16))
    }

    @Test func linesAppendInOrderAndTheEndSaysConnectionWhenItMust() {
        let lines = Self.written { cursor in
            cursor.append("age: ")
            cursor.appendDecimal(3)
            cursor.append("\r\n")
            cursor.append([UInt8]("x-a: b\r\n".utf8))
            cursor.append("x-c: d\r\n" as String)
            cursor.appendEnd(keepAlive: true, announceKeepAlive: false)
        }
        #expect(lines == "HTTP/1.1 200 OK\r\nage: 3\r\nx-a: b\r\nx-c: d\r\n\r\n")
        #expect(Self.written { $0.appendEnd(keepAlive: false, announceKeepAlive: true) }.hasSuffix("\r\nconnection: close\r\n\r\n"))
        #expect(Self.written { $0.appendEnd(keepAlive: true, announceKeepAlive: true) }.hasSuffix("\r\nconnection: keep-alive\r\n\r\n"))
        // The longest end fits the 26 bytes the writer reserves for it.
        #expect("connection: keep-alive\r\n\r\n".utf8.count == 26)
    }

    @Test func writingPastTheReservedRoomTraps() async {
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { raw in
                var cursor = HeadBytesCursor(UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< 4]))
                cursor.append("more than four bytes")
                return cursor.count
            }
        }
    }
}
