/// `POST /v1/embeddings`: one vector per input (a string or an array of them), of
/// `dimensions` components (default 16: small on purpose, the mock is about plumbing).
enum EmbeddingAnswer {
    static let defaultDimensions = 16
    static let maximumDimensions = 4096

    static func make(_ seed: AnswerSeed) -> AnswerBody {
        let inputCount: Int
        switch seed.request["input"] {
        case .array(let inputs)?: inputCount = max(1, inputs.count)
        default: inputCount = 1
        }
        let requested = seed.request["dimensions"]?.intValue ?? defaultDimensions
        let dimensions = min(max(1, requested), maximumDimensions)
        var data: [String] = []
        for index in 0..<inputCount {
            var generator = seed.generator(salt: 0xE3B0 &+ UInt64(index))
            var components: [String] = []
            components.reserveCapacity(dimensions)
            for _ in 0..<dimensions {
                components.append(JSONText.micros(generator.nextUnitMicros()))
            }
            data.append(
                "{\"object\":\"embedding\",\"index\":\(index),\"embedding\":[\(components.joined(separator: ","))]}"
            )
        }
        return .json(
            "{\"object\":\"list\",\"data\":[\(data.joined(separator: ","))],"
                + "\"model\":\(JSONText.quoted(seed.model)),"
                + "\"usage\":\(seed.usageOverride ?? "{\"prompt_tokens\":\(seed.promptTokens),\"total_tokens\":\(seed.promptTokens)}")}"
        )
    }
}
