import Foundation

/// `{"error":{"message","type","code"}}`, the shape every error answer must have.
struct OpenAIErrorDocument: Equatable {
    let message: String
    let type: String
    /// A string for Reprise's own errors; the upstream may send null.
    let code: String?

    /// Nil when `text` is not an error document of that shape.
    init?(_ text: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let error = object["error"] as? [String: Any],
              let message = error["message"] as? String,
              let type = error["type"] as? String else { return nil }
        self.message = message
        self.type = type
        self.code = error["code"] as? String
    }
}
