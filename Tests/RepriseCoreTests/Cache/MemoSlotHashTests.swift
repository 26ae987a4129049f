import Testing
@testable import RepriseCore

/// The memo's slot hash spreads bodies that differ in a few bytes (what repeated chat requests
/// look like: one long shared prefix and suffix) evenly over the slots.
@Suite struct MemoSlotHashTests {
    static func hash(_ text: String) -> Int {
        Array(text.utf8).withUnsafeBytes { MemoSlotHash.hash($0) }
    }

    @Test func bodiesDifferingInOneByteSpreadOverTheSlots() {
        let slots = 64, bodies = 12_800
        var counts = Array(repeating: 0, count: slots)
        for number in 0 ..< bodies {
            let body = #"{"model":"deepseek-chat","messages":[{"role":"user","content":"question \#(number) of the day"}]}"#
            counts[Int(UInt(bitPattern: Self.hash(body)) % UInt(slots))] += 1
        }
        // 200 per slot on average; a uniform hash stays within ±35% of that (over 6 standard
        // deviations) in every slot.
        #expect(counts.min()! > 130 && counts.max()! < 270, "\(counts)")
    }

    @Test func everyByteAndTheLengthCount() {
        let base = Array(#"{"model":"m","messages":[{"role":"user","content":"hi there"}]}"#.utf8)
        let hashed = base.withUnsafeBytes { MemoSlotHash.hash($0) }
        for index in base.indices {
            var changed = base
            changed[index] ^= 0x01
            #expect(changed.withUnsafeBytes { MemoSlotHash.hash($0) } != hashed, "byte \(index)")
        }
        // A trailing zero byte is not the same body as none.
        #expect((base + [0]).withUnsafeBytes { MemoSlotHash.hash($0) } != hashed)
        #expect([UInt8]().withUnsafeBytes { MemoSlotHash.hash($0) } != [UInt8](repeating: 0, count: 8).withUnsafeBytes { MemoSlotHash.hash($0) })
    }
}
