import Testing
import RepriseCrypto

/// RFC 4231 test vectors (HMAC-SHA-256 column).
@Suite struct HMACSHA256Tests {
    static func bytes(hex: String) -> [UInt8] { Hex.decode(hex.utf8)! }

    @Test func rfc4231Case1() {
        let key = [UInt8](repeating: 0x0b, count: 20)
        #expect(HMACSHA256.mac(key: key, Array("Hi There".utf8)).hexString
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func rfc4231Case2ShortKey() {
        #expect(HMACSHA256.mac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)).hexString
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func rfc4231Case3() {
        let key = [UInt8](repeating: 0xaa, count: 20)
        let data = [UInt8](repeating: 0xdd, count: 50)
        #expect(HMACSHA256.mac(key: key, data).hexString
            == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
    }

    @Test func rfc4231Case4() {
        let key = Self.bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819")
        let data = [UInt8](repeating: 0xcd, count: 50)
        #expect(HMACSHA256.mac(key: key, data).hexString
            == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
    }

    @Test func rfc4231Case5Truncated() {
        let key = [UInt8](repeating: 0x0c, count: 20)
        let mac = HMACSHA256.mac(key: key, Array("Test With Truncation".utf8))
        #expect(mac.prefix(16).hexString == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test func rfc4231Case6LargeKey() {
        let key = [UInt8](repeating: 0xaa, count: 131)
        #expect(HMACSHA256.mac(key: key, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)).hexString
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func rfc4231Case7LargeKeyAndData() {
        let key = [UInt8](repeating: 0xaa, count: 131)
        let data = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
        #expect(HMACSHA256.mac(key: key, Array(data.utf8)).hexString
            == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    @Test func reuseKeepsKeyAndResets() {
        let hmac = HMACSHA256(key: Array("Jefe".utf8))
        hmac.update(Array("garbage".utf8))
        hmac.reset()
        hmac.update(Array("what do ya ".utf8))
        hmac.update(Array("want for nothing?".utf8))
        let first = hmac.finalize()
        hmac.update(Array("what do ya want for nothing?".utf8))
        #expect(hmac.finalize() == first)
        #expect(first.hexString == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func emptyKeyAndMessage() {
        // HMAC-SHA256("", "") — well known value.
        #expect(HMACSHA256.mac(key: [UInt8](), [UInt8]()).hexString
            == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }
}
