import Testing
@testable import RepriseCore

/// The namespace remembered by header lines answers only for the same mode and the same bytes,
/// and then with what computing it gives.
@Suite struct NamespaceLineMemoTests {
    typealias Lines = [(String, String)]

    /// The remembered namespace of `lines` under `mode`, then (on a miss) the computed one,
    /// remembered for the next call.
    static func lookup(_ builder: CacheKeyBuilder, _ mode: NamespaceMode, _ lines: Lines) -> (remembered: String?, computed: String) {
        let read = lines.filter { mode.reads(headerNamed: $0.0) }
        let remembered = builder.rememberedNamespace(mode: mode) { line in
            for (name, value) in read {
                var name = name, value = value
                name.withUTF8 { name in value.withUTF8 { value in line(name, value) } }
            }
        }
        let computed = builder.namespace(mode: mode) { visit in for (name, value) in lines { visit(name, value) } }
        if remembered == nil { builder.rememberNamespace(computed, mode: mode) }
        return (remembered, computed)
    }

    @Test func sameLinesAndModeAreRememberedAnythingElseIsNot() {
        let builder = CacheKeyBuilder()
        let alice: Lines = [("Content-Type", "application/json"), ("Authorization", "Bearer sk-alice")]
        #expect(Self.lookup(builder, .credential, alice).remembered == nil)
        let again = Self.lookup(builder, .credential, alice)
        #expect(again.remembered == again.computed)
        // Another credential, another mode, lines that would concatenate alike: computed.
        #expect(Self.lookup(builder, .credential, [("Authorization", "Bearer sk-alicf")]).remembered == nil)
        #expect(Self.lookup(builder, .header("x-team"), [("X-Team", "a"), ("Authorization", "Bearer sk-alicf")]).remembered == nil)
        #expect(Self.lookup(builder, .header("x-team"), [("X-Team", "ab")]).remembered == nil)
        #expect(Self.lookup(builder, .header("x-team"), [("X-Team", "a"), ("X-Team", "b")]).remembered == nil)
        // A second credential line changes the namespace: never the one-line memo's.
        let two = Self.lookup(builder, .credential, alice + [("api-key", "sk-bob")])
        #expect(two.remembered == nil)
        #expect(two.computed != Self.lookup(builder, .credential, alice).computed)
    }

    @Test func aRememberedNamespaceIsAlwaysTheComputedOne() {
        let builder = CacheKeyBuilder()
        let modes: [NamespaceMode] = [.credential, .global, .header("x-team")]
        let values = ["Bearer sk-1", "Bearer sk-2", "sk-1", "", "  Bearer sk-1 "]
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 2_000 {
            var lines: Lines = []
            for _ in 0 ..< Int.random(in: 0 ... 3, using: &generator) {
                let name = ["Authorization", "authorization", "api-key", "x-api-key", "X-Team", "Accept"].randomElement(using: &generator)!
                lines.append((name, values.randomElement(using: &generator)!))
            }
            let found = Self.lookup(builder, modes.randomElement(using: &generator)!, lines)
            if let remembered = found.remembered { #expect(remembered == found.computed, "\(lines)") }
        }
    }
}
