import Testing
@testable import RepriseCore

/// The in-place pass finds the same fields `decode` copies, and refuses what it refuses.
@Suite struct CacheEntryLayoutTests {
    static func entry(headerValue: String) -> CacheEntry {
        CacheEntry(status: 200, headers: [.init(name: "content-language", value: headerValue)], createdAtMs: 5, ttlMs: 60_000,
                   model: "modèle", usage: nil, body: .events([[1, 2], [], [3]]), keyDigest: String(repeating: "0f", count: 32))
    }

    /// `bytes` with its CRC-32 made right again after an edit.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0 ..< bytes.count - 4])) }
        for offset in 0 ..< 4 { bytes[bytes.count - 4 + offset] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * offset)) }
        return bytes
    }

    @Test func fieldsAreFoundWhereDecodeReadsThem() throws {
        let entry = Self.entry(headerValue: "café, 日本語 and ASCII past eight bytes")
        let bytes = CacheEntryCodec.encode(entry)
        try bytes.withUnsafeBytes { raw in
            let layout = try CacheEntryLayout(parsing: raw)
            #expect(layout.entry(in: raw) == entry)
            #expect(layout.status == 200 && layout.lifetime == CacheEntryLifetime(createdAtMs: 5, ttlMs: 60_000))
            #expect(String(decoding: raw[layout.model!], as: UTF8.self) == "modèle")
            guard case .events(let count, _) = layout.body else {
                Issue.record("a recorded stream")
                return
            }
            #expect(count == 3)
            var names: [String] = []
            layout.forEachHeader(in: raw) { name, _ in names.append(String(decoding: name, as: UTF8.self)) }
            #expect(names == ["content-language"])
        }
    }

    @Test func invalidUTF8BehindAValidChecksumIsRefused() throws {
        let bytes = CacheEntryCodec.encode(Self.entry(headerValue: "long ASCII prefix, then café"))
        let accent = try #require(bytes.indices.first { bytes[$0] == 0xC3 && bytes[$0 + 1] == 0xA9 })
        var broken = bytes
        broken[accent + 1] = 0x28  // a lead byte followed by no continuation byte
        #expect(throws: CacheEntryDecodingError.self) { try CacheEntryCodec.decode(Self.resealed(broken)) }
        var lineBreak = bytes
        lineBreak[accent] = 0x0A
        lineBreak[accent + 1] = 0x41
        #expect(throws: CacheEntryDecodingError(.invalidField, "header 0 holds CR, LF or NUL")) { try CacheEntryCodec.decode(Self.resealed(lineBreak)) }
        #expect(try CacheEntryCodec.decode(Self.resealed(bytes)) == Self.entry(headerValue: "long ASCII prefix, then café"))
    }

    @Test func asciiIsCheckedAWordAtATimeAndByteByByteAtTheEnd() {
        for length in 0 ..< 20 {
            for position in 0 ..< length {
                var bytes = [UInt8](repeating: 0x41, count: length)
                #expect(bytes.withUnsafeBytes { CacheEntryLayout.isASCII($0) })
                bytes[position] = 0x80
                #expect(!bytes.withUnsafeBytes { CacheEntryLayout.isASCII($0) }, "high bit at \(position) of \(length)")
            }
        }
    }
}
