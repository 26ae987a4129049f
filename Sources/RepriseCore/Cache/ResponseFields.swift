/// Fields of one answer (a JSON document or one stream event) that an entry records, read with
/// `JSONFieldScanner` (no tree built: this runs on every recorded event).
struct ResponseFields {
    /// The JSON is an object whose top-level members could be listed.
    var isObject = false
    var model: String?
    /// `prompt_tokens`/`completion_tokens` (Chat Completions, Completions, embeddings) or
    /// `input_tokens`/`output_tokens` (Responses API), with `total_tokens`.
    var usage: CacheEntry.Usage?
    var finishReasonSeen = false
    /// Top-level `object` (`chat.completion`, `response`, ...).
    var object: String?
    /// Top-level `type`: the event name carried in every Responses API stream event
    /// (`response.created`, ..., `response.completed`, `error`).
    var eventType: String?
    /// Top-level `status` of a Responses object (`completed`, `incomplete`, `failed`, ...).
    var status: String?
    /// Where the top-level `response` object starts (a Responses stream event's response), so
    /// the terminal event's model and usage can be read from it (`init(json:objectAt:)`).
    var responseStart: Int?

    /// The fields of the object at `start` of `json` (0: the document itself).
    init(json: [UInt8], objectAt start: Int = 0) {
        let scanner = JSONFieldScanner(bytes: json)
        guard let members = scanner.members(ofObjectAt: start) else { return }
        isObject = true
        if let range = scanner.member("model", in: members) { model = scanner.simpleString(range) }
        if let range = scanner.member("object", in: members) { object = scanner.simpleString(range) }
        if let range = scanner.member("type", in: members) { eventType = scanner.simpleString(range) }
        if let range = scanner.member("status", in: members) { status = scanner.simpleString(range) }
        if let range = scanner.member("response", in: members), !scanner.isNull(range) { responseStart = range.lowerBound }
        if let range = scanner.member("usage", in: members), !scanner.isNull(range) {
            usage = Self.usage(scanner: scanner, objectAt: range.lowerBound)
        }
        if let range = scanner.member("choices", in: members), let choices = scanner.elements(ofArrayAt: range.lowerBound) {
            for choice in choices {
                guard let choiceMembers = scanner.members(ofObjectAt: choice.lowerBound),
                      let reason = scanner.member("finish_reason", in: choiceMembers) else { continue }
                if !scanner.isNull(reason) { finishReasonSeen = true }
            }
        }
    }

    /// The counts of the `usage` object at `start`: `prompt_tokens`/`completion_tokens` or
    /// `input_tokens`/`output_tokens`, with `total_tokens`.
    static func usage(scanner: JSONFieldScanner, objectAt start: Int) -> CacheEntry.Usage? {
        guard let usageMembers = scanner.members(ofObjectAt: start) else { return nil }
        func count(_ name: String) -> Int? { scanner.member(name, in: usageMembers).flatMap(scanner.integer) }
        // The counts come from the upstream: a missing total is the sum only when it fits
        // (usage that does not add up is left out of the entry, never a trap).
        guard let prompt = count("prompt_tokens") ?? count("input_tokens") else { return nil }
        let completion = count("completion_tokens") ?? count("output_tokens") ?? 0
        let sum = prompt.addingReportingOverflow(completion)
        guard let total = count("total_tokens") ?? (sum.overflow ? nil : sum.partialValue) else { return nil }
        return CacheEntry.Usage(promptTokens: prompt, completionTokens: completion, totalTokens: total)
    }

    /// A Responses API stream event: its `type` names a response event (`response.…`) or is
    /// `error`. Chat and completion chunks have no `type`.
    var isResponsesEvent: Bool {
        guard let eventType else { return false }
        return eventType.hasPrefix("response.") || eventType == "error"
    }
}
