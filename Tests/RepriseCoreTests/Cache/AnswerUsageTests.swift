import Testing
@testable import RepriseCore

/// `AnswerUsage`: token counts from the end of an answer as it went to the client.
@Suite struct AnswerUsageTests {
    func usage(_ text: String) -> CacheEntry.Usage? { AnswerUsage.read(tail: Array(text.utf8)) }

    @Test func chatJSONAnswer() {
        let answer = #"{"id":"x","choices":[{"message":{"content":"usage is \"usage\": {}"}}],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}}"#
        #expect(usage(answer) == CacheEntry.Usage(promptTokens: 12, completionTokens: 30, totalTokens: 42))
    }

    @Test func streamWithNullUsageChunksThenTheUsageChunk() {
        let stream = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\ndata: [DONE]\n\n"
        #expect(usage(stream)?.completionTokens == 7)
    }

    @Test func streamWhoseLastWordIsNullHasNoUsage() {
        #expect(usage("data: {\"choices\":[],\"usage\":null}\n\ndata: [DONE]\n\n") == nil)
    }

    @Test func responsesStreamCompletedEvent() {
        let event = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":9,\"output_tokens\":4,\"total_tokens\":13}}}\n\n"
        #expect(usage(event) == CacheEntry.Usage(promptTokens: 9, completionTokens: 4, totalTokens: 13))
    }

    @Test func noUsageOrCutUsage() {
        #expect(usage(#"{"data":[{"embedding":[0.1]}]}"#) == nil)
        #expect(usage(#"{"usage":{"prompt_tokens":5,"compl"#) == nil)
        #expect(usage("") == nil)
        #expect(usage(#""usage""#) == nil)
    }

    @Test func requestModelIsReadFromTheTopLevelOnly() {
        #expect(RequestModel.read(body: Array(#"{"messages":[{"model":"inner"}],"model":"gpt-4o"}"#.utf8)) == "gpt-4o")
        #expect(RequestModel.read(body: Array(#"{"messages":[{"model":"inner"}]}"#.utf8)) == nil)
        #expect(RequestModel.read(body: Array("not json".utf8)) == nil)
        #expect(RequestModel.read(body: Array(#"{"model":5}"#.utf8)) == nil)
    }
}
