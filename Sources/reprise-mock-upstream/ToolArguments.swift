/// Deterministic tool-call arguments: one value per property of the tool's JSON schema (sorted
/// by name, typed by the schema), or `{"input": …}` when the schema names no properties.
enum ToolArguments {
    static func make(_ seed: AnswerSeed, parameters: JSONValue?) -> String {
        var generator = seed.generator(salt: 0x7001)
        let properties = parameters?["properties"]?.objectValue ?? [:]
        guard !properties.isEmpty else {
            return "{\"input\":\(JSONText.quoted(seed.sentence(salt: 0x7002).text))}"
        }
        var members: [String] = []
        for (index, name) in properties.keys.sorted().enumerated() {
            let schema = properties[name]
            let value: String
            if let choices = schema?["enum"]?.arrayValue, !choices.isEmpty,
                let choice = choices[generator.next(below: choices.count)].stringValue
            {
                value = JSONText.quoted(choice)
            } else {
                switch schema?["type"]?.stringValue {
                case "integer": value = String(generator.next(below: 100))
                case "number": value = JSONText.micros(generator.nextUnitMicros())
                case "boolean": value = generator.next(below: 2) == 0 ? "false" : "true"
                case "array": value = "[]"
                case "object": value = "{}"
                default: value = JSONText.quoted(seed.sentence(salt: 0x7100 &+ UInt64(index)).text)
                }
            }
            members.append(JSONText.quoted(name) + ":" + value)
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func tokens(_ arguments: String) -> Int {
        max(1, arguments.utf8.count / 4)
    }
}
