import Foundation
import Testing
@testable import RepriseCore

/// Encryption at rest of Redis entries: sealed under the newest key, opened by any configured
/// key, bound to the Redis key; plaintext, unknown keys and tampering are refused.
@Suite struct EntrySealerTests {
    let old = [UInt8](repeating: 1, count: 32)
    let new = [UInt8](repeating: 2, count: 32)
    let entry = Array("RPRC an encoded entry with an answer inside".utf8)
    let redisKey = Array("reprise:v1:ns:abc".utf8)

    @Test func sealedEntriesHideTheirBytesAndOpenBack() throws {
        let sealer = EntrySealer(keys: [new])
        let sealed = sealer.seal(entry, associatedData: redisKey)
        #expect(sealed.first == EntrySealer.marker)
        #expect(sealed.count == entry.count + 1 + 4 + 12 + 16)
        #expect(!String(decoding: sealed, as: UTF8.self).contains("answer"))
        #expect(try sealer.open(sealed, associatedData: redisKey) == entry)
        #expect(sealer.seal(entry, associatedData: redisKey) != sealed, "a nonce is never reused")
    }

    @Test func openingIntoABufferWritesThePlaintextAndNothingPastIt() throws {
        let sealer = EntrySealer(keys: [new])
        let sealed = sealer.seal(entry, associatedData: redisKey)
        #expect(EntrySealer.plaintextByteCount(sealedByteCount: sealed.count) == entry.count)
        #expect(EntrySealer.plaintextByteCount(sealedByteCount: 10) < 0)
        var output = [UInt8](repeating: 0xEE, count: entry.count + 8)
        try sealed.withUnsafeBytes { sealed in
            try redisKey.withUnsafeBytes { key in
                try output.withUnsafeMutableBytes { try sealer.open(sealed, associatedData: key, into: $0) }
            }
        }
        #expect(Array(output.prefix(entry.count)) == entry)
        #expect(output.suffix(8).allSatisfy { $0 == 0xEE })
        var tampered = sealed
        tampered[tampered.count - 20] ^= 1
        #expect(throws: EntrySealingError.authenticationFailed) {
            try tampered.withUnsafeBytes { sealed in
                try redisKey.withUnsafeBytes { key in
                    try output.withUnsafeMutableBytes { try sealer.open(sealed, associatedData: key, into: $0) }
                }
            }
        }
    }

    @Test func rotationNewestSealsEveryKeyOpens() throws {
        let before = EntrySealer(keys: [old]).seal(entry, associatedData: redisKey)
        let rotated = EntrySealer(keys: [new, old])
        #expect(try rotated.open(before, associatedData: redisKey) == entry)
        let after = rotated.seal(entry, associatedData: redisKey)
        #expect(throws: EntrySealingError.unknownKey) { try EntrySealer(keys: [old]).open(after, associatedData: redisKey) }
        // Digests stay while the oldest key stays.
        #expect(rotated.digestSecret == EntrySealer(keys: [old]).digestSecret)
        #expect(EntrySealer(keys: [new]).digestSecret != EntrySealer(keys: [old]).digestSecret)
    }

    @Test func plaintextTamperedAndMovedEntriesAreRefused() {
        let sealer = EntrySealer(keys: [new])
        #expect(throws: EntrySealingError.notSealed) { try sealer.open(entry, associatedData: redisKey) }
        #expect(throws: EntrySealingError.notSealed) { try sealer.open([], associatedData: redisKey) }
        let sealed = sealer.seal(entry, associatedData: redisKey)
        for index in [5, 20, sealed.count - 1] {
            var tampered = sealed
            tampered[index] ^= 0x40
            #expect(throws: EntrySealingError.authenticationFailed) { try sealer.open(tampered, associatedData: redisKey) }
        }
        #expect(throws: EntrySealingError.authenticationFailed) { try sealer.open(sealed, associatedData: Array("reprise:v1:ns:other".utf8)) }
    }

    @Test func keySourcesReadFilesAndVariablesInEveryFormAndNeverTheConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let raw = directory.appendingPathComponent("raw").path
        FileManager.default.createFile(atPath: raw, contents: Data(new))
        let hexFile = directory.appendingPathComponent("hex").path
        try (String(repeating: "02", count: 32) + "\n").write(toFile: hexFile, atomically: true, encoding: .utf8)
        #expect(try EncryptionKeySource(parsing: "file:\(raw)").load() == new)
        #expect(try EncryptionKeySource(parsing: "file:\(hexFile)").load() == new)
        let base64 = Data(new).base64EncodedString()
        #expect(try EncryptionKeySource(parsing: "env:K").load(environment: ["K": base64]) == new)
        #expect(throws: EncryptionKeyError.notAReference) { try EncryptionKeySource(parsing: base64) }
        #expect(throws: EncryptionKeyError.unsetVariable("K")) { try EncryptionKeySource(parsing: "env:K").load(environment: [:]) }
        #expect(throws: EncryptionKeyError.wrongLength("env:K")) { try EncryptionKeySource(parsing: "env:K").load(environment: ["K": "abcd"]) }
        #expect(throws: EncryptionKeyError.unreadable("/nonexistent/key")) { try EncryptionKeySource(parsing: "file:/nonexistent/key").load() }
    }
}
