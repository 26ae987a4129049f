/// Builds the Responses API's events: each named by its type, its data starting with
/// `"type"` and `"sequence_number"` (counted from 0) before the event's own members.
struct EventSequence {
    private(set) var events: [ServerSentEvent] = []

    mutating func append(_ type: String, _ members: String) {
        let data = "{\"type\":\(JSONText.quoted(type)),\"sequence_number\":\(events.count)," + members + "}"
        events.append(ServerSentEvent(name: type, data: data))
    }
}
