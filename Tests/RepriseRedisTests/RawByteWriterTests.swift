import NIOCore
import RepriseRedis
import Testing

@Suite struct RawByteWriterTests {
    static func written(maximum: Int = 64, _ write: (inout RawByteWriter) -> Void) -> String {
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n")
        buffer.writeRaw(maximum: maximum, write)
        return String(buffer: buffer)
    }

    @Test(arguments: [0, 7, 10, 86_400, Int.max])
    func decimalsAreSpelledAsStringDoes(value: Int) {
        #expect(Self.written { $0.appendDecimal(value) } == "HTTP/1.1 200 OK\r\n" + String(value))
        #expect(RawByteWriter.decimalDigits(value) == String(value).utf8.count)
    }

    @Test(arguments: [UInt64(0), 0x9, 0xA, 0xF, 0x10, 0xBEEF, UInt64.max])
    func hexIsSpelledAsStringDoes(value: UInt64) {
        #expect(Self.written { $0.appendHex(value) } == "HTTP/1.1 200 OK\r\n" + String(value, radix: 16))
    }

    @Test func piecesAppendInOrder() {
        let lines = Self.written { writer in
            writer.append("age: ")
            writer.appendDecimal(3)
            writer.append("\r\n")
            writer.appendUTF8("x-é: b\r\n")
            Array("x-c: d\r\n".utf8).withUnsafeBytes { writer.append($0) }
        }
        #expect(lines == "HTTP/1.1 200 OK\r\nage: 3\r\nx-é: b\r\nx-c: d\r\n")
    }

    @Test func writingPastTheReservedRoomTraps() async {
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { raw in
                var writer = RawByteWriter(UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< 4]))
                writer.append("more than four bytes")
                return writer.count
            }
        }
        await #expect(processExitsWith: .failure) {
            var buffer = ByteBufferAllocator().buffer(capacity: 64)
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { raw in
                var writer = RawByteWriter(UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< 4]))
                writer.appendHex(UInt64.max)
                return writer.count
            }
        }
    }
}
