import Testing
import RepriseCrypto

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256Hasher.hash(Array("".utf8)).hexString
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hash(Array("abc".utf8)).hexString
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func reuseResetsBetweenDigests() {
        let hasher = SHA256Hasher()
        hasher.update(Array("ab".utf8))
        hasher.update(Array("c".utf8))
        let first = hasher.finalize()
        hasher.update(Array("abc".utf8))
        #expect(hasher.finalize() == first)
    }
}
