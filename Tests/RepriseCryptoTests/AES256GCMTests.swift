import Testing
@testable import RepriseCrypto

/// AES-256-GCM against the GCM specification's test case 16 (McGrew and Viega; the same bytes
/// come out of Python's `cryptography`), and its refusals.
@Suite struct AES256GCMTests {
    static func hex(_ text: String) -> [UInt8] { Hex.decode(text.utf8)! }

    let key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    let nonce = hex("cafebabefacedbaddecaf888")
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    let plaintext = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    let expected = hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        + "76fc6ece0f4e1768cddf8853bb2d551b")

    @Test func sealsTheSpecificationsTestVector() {
        #expect(AES256GCM.seal(plaintext, key: key, nonce: nonce, associatedData: aad) == expected)
    }

    @Test func opensItBack() throws {
        #expect(try AES256GCM.open(expected[...], key: key, nonce: nonce, associatedData: aad) == plaintext)
    }

    @Test func refusesAnyChangeOfCiphertextTagKeyOrAssociatedData() {
        for index in [0, 30, expected.count - 1] {
            var tampered = expected
            tampered[index] ^= 0x01
            #expect(throws: AES256GCMError.authenticationFailed) { try AES256GCM.open(tampered[...], key: key, nonce: nonce, associatedData: aad) }
        }
        var otherKey = key
        otherKey[0] ^= 0x80
        #expect(throws: AES256GCMError.authenticationFailed) { try AES256GCM.open(expected[...], key: otherKey, nonce: nonce, associatedData: aad) }
        #expect(throws: AES256GCMError.authenticationFailed) { try AES256GCM.open(expected[...], key: key, nonce: nonce, associatedData: aad + [0]) }
        #expect(throws: AES256GCMError.tooShort(3)) { try AES256GCM.open([1, 2, 3][...], key: key, nonce: nonce, associatedData: aad) }
    }

    @Test func emptyPlaintextStillCarriesATag() throws {
        let sealed = AES256GCM.seal([], key: key, nonce: nonce, associatedData: aad)
        #expect(sealed.count == AES256GCM.tagByteCount)
        #expect(try AES256GCM.open(sealed[...], key: key, nonce: nonce, associatedData: aad) == [])
    }

    @Test func hexDecodesPairsOfEitherCaseOnly() {
        #expect(Hex.decode("00ff10Ab".utf8) == [0x00, 0xFF, 0x10, 0xAB])
        #expect(Hex.decode("".utf8) == [])
        #expect(Hex.decode("abc".utf8) == nil)
        #expect(Hex.decode("+f".utf8) == nil)
        #expect(Hex.decode("0g".utf8) == nil)
        #expect(Hex.decode(" 0".utf8) == nil)
    }

    @Test func randomBytesDiffer() {
        #expect(SecureRandom.bytes(12) != SecureRandom.bytes(12))
        #expect(SecureRandom.bytes(12).count == 12)
    }
}
