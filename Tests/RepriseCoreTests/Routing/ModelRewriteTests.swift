import Testing
@testable import RepriseCore

@Suite("Model rewrite")
struct ModelRewriteTests {
    func rewrite(_ body: String, to model: String) -> String? {
        ModelRewrite.rewrite(body: Array(body.utf8), model: model).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func replacesOnlyTheTopLevelModelKeepingEverythingElse() {
        let body = #"{ "model" : "deepseek-chat",  "messages":[{"role":"user","content":"hi","model":"x"}], "stream":true }"#
        #expect(rewrite(body, to: "deepseek-reasoner")
            == #"{ "model" : "deepseek-reasoner",  "messages":[{"role":"user","content":"hi","model":"x"}], "stream":true }"#)
    }

    @Test func escapesTheNewName() {
        #expect(rewrite(#"{"model":"a"}"#, to: "b\"c\\") == #"{"model":"b\"c\\"}"#)
    }

    @Test func everyDuplicateIsReplaced() {
        #expect(rewrite(#"{"model":"a","n":1,"model":"b"}"#, to: "c") == #"{"model":"c","n":1,"model":"c"}"#)
    }

    @Test func bodiesWithoutATopLevelModelAreLeftAlone() {
        #expect(rewrite(#"{"messages":[]}"#, to: "c") == nil)
        #expect(rewrite(#"["model"]"#, to: "c") == nil)
        #expect(rewrite("not json", to: "c") == nil)
        #expect(rewrite(#"{"model":"a""#, to: "c") == nil)
    }

    @Test func readsTheBodyUser() {
        #expect(ModelRewrite.user(body: Array(#"{"model":"m","user":"alice"}"#.utf8)) == "alice")
        #expect(ModelRewrite.user(body: Array(#"{"model":"m"}"#.utf8)) == nil)
        #expect(ModelRewrite.user(body: Array(#"{"user":42}"#.utf8)) == nil)
    }
}
