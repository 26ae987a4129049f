import Testing
@testable import RepriseCore

@Suite("Token cap")
struct TokenCapTests {
    func apply(_ body: String, cap: Int = 100, mode: MaxTokensMode = .clamp, path: String = "/chat/completions") -> TokenCap.Outcome {
        TokenCap.apply(cap: cap, mode: mode, body: Array(body.utf8), normalizedPath: path)
    }

    func text(_ outcome: TokenCap.Outcome) -> String? {
        if case .rewritten(let body, _) = outcome { return String(decoding: body, as: UTF8.self) }
        return nil
    }

    @Test func aValueAboveTheCapIsClampedInPlace() {
        let outcome = apply(#"{"model":"m","max_tokens": 5000,"messages":[]}"#)
        #expect(text(outcome) == #"{"model":"m","max_tokens": 100,"messages":[]}"#)
        if case .rewritten(_, let maxTokens) = outcome { #expect(maxTokens == 100) }
    }

    @Test func everyOutputFieldIsClamped() {
        let outcome = apply(#"{"max_completion_tokens":101,"max_tokens":7,"max_output_tokens":1e9}"#)
        #expect(text(outcome) == #"{"max_completion_tokens":100,"max_tokens":7,"max_output_tokens":100}"#)
    }

    @Test func aValueWithinTheCapIsUnchanged() {
        #expect(apply(#"{"max_tokens":100}"#) == .unchanged(maxTokens: 100))
        #expect(apply(#"{"max_tokens":3}"#, mode: .refuse) == .unchanged(maxTokens: 3))
    }

    @Test func refuseNamesTheFieldAndValue() {
        #expect(apply(#"{"max_completion_tokens":4096}"#, mode: .refuse) == .refused(field: "max_completion_tokens", requested: 4096))
    }

    @Test func aBodyWithoutABoundGetsTheCap() {
        #expect(text(apply(#"{"model":"m"}"#)) == #"{"max_tokens":100,"model":"m"}"#)
        #expect(text(apply(#"  {}"#)) == #"  {"max_tokens":100}"#)
        #expect(text(apply(#"{"input":"hi"}"#, path: "/responses")) == #"{"max_output_tokens":100,"input":"hi"}"#)
        #expect(text(apply(#"{"max_tokens":null}"#, mode: .refuse)) == #"{"max_tokens":100}"#)
    }

    @Test func embeddingsAndNonObjectsAreLeftAlone() {
        #expect(apply(#"{"input":"x"}"#, path: "/embeddings") == .unchanged(maxTokens: nil))
        #expect(apply("[1,2]") == .unchanged(maxTokens: nil))
        #expect(apply("not json") == .unchanged(maxTokens: nil))
    }

    @Test func hostileNumbersSaturateInsteadOfTrapping() {
        #expect(apply(#"{"max_tokens":-1e300}"#) == .unchanged(maxTokens: 0))
        #expect(apply(#"{"max_tokens":1e300}"#, mode: .refuse) == .refused(field: "max_tokens", requested: Int.max))
        #expect(apply(#"{"max_tokens":-0.5}"#) == .unchanged(maxTokens: 0))
        #expect(apply(#"{"max_tokens":-inf}"#) == .unchanged(maxTokens: 0) || apply(#"{"max_tokens":-inf}"#) == .unchanged(maxTokens: nil))
        // Not a number: refused with a cap (a lenient upstream might read "99999" as 99999);
        // without a cap, no estimate from it.
        for text in ["nan", "NaN", "\"99999\"", "true", "[]", "{}"] {
            #expect(apply("{\"max_tokens\":\(text)}") == .invalid(field: "max_tokens"), "\(text)")
            #expect(TokenCap.requested(body: Array("{\"max_tokens\":\(text)}".utf8)) == nil)
        }
    }

    @Test func repeatedAndEscapedBoundsCannotSlipPastTheCap() {
        // Parsers differ on which duplicate wins: every one is clamped.
        #expect(text(apply(#"{"max_tokens":10,"max_tokens":99999}"#)) == #"{"max_tokens":10,"max_tokens":100}"#)
        #expect(apply(#"{"max_tokens":10,"max_tokens":99999}"#, mode: .refuse) == .refused(field: "max_tokens", requested: 99999))
        // A null after a number would mean "no bound" to a last-wins parser: it takes the cap.
        #expect(text(apply(#"{"max_tokens":10,"max_tokens":null}"#, mode: .refuse)) == #"{"max_tokens":10,"max_tokens":100}"#)
        // "max\u005ftokens" is max_tokens to the upstream.
        #expect(apply(#"{"max\u005ftokens":99999}"#) == .invalid(field: #"max\u005ftokens"#))
        #expect(apply(#"{"max\u005ftokens":99999}"#, cap: 0) == .unchanged(maxTokens: nil))
    }

    @Test func noCapLeavesEverything() {
        #expect(apply(#"{"max_tokens":999999}"#, cap: 0) == .unchanged(maxTokens: 999999))
        #expect(TokenCap.requested(body: Array(#"{"max_tokens":50,"max_completion_tokens":20}"#.utf8)) == 20)
    }

    @Test func theEstimateIsOutputPlusBytesOverFour() {
        #expect(TokenEstimate.tokens(bodyBytes: 400, maxTokens: 50) == 150)
        #expect(TokenEstimate.tokens(bodyBytes: 1, maxTokens: nil) == 1)
        #expect(TokenEstimate.tokens(bodyBytes: 0, maxTokens: Int.max) == 1 << 40)
    }
}
