/// The models the mock lists (`GET /v1/models`) and describes (`GET /v1/models/{id}`).
enum ModelCatalog {
    static let ids = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "deepseek-chat", "deepseek-reasoner"]

    static func objectJSON(_ id: String) -> String {
        "{\"id\":\(JSONText.quoted(id)),\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"reprise-mock\"}"
    }

    static let listJSON = "{\"object\":\"list\",\"data\":[\(ids.map(objectJSON).joined(separator: ","))]}"

    /// OpenAI's answer to an unknown model id.
    static func notFoundJSON(_ id: String) -> String {
        OpenAIError.json(
            message: "The model `\(id)` does not exist or you do not have access to it.",
            type: "invalid_request_error",
            code: "model_not_found"
        )
    }
}
