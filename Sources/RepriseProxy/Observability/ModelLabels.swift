import RepriseCore

/// The `model` label's values: the configured names (`metrics.models`), `other` for any other
/// model a client names, `none` for requests without one. Bounded whatever clients send.
struct ModelLabels: Sendable {
    private let indexByName: [String: Int]
    /// Label values by index: the configured names, then `other`, then `none`.
    let values: [String]
    var other: Int { values.count - 2 }
    var none: Int { values.count - 1 }

    init(configured: [String]) {
        values = configured + ["other", "none"]
        var index: [String: Int] = [:]
        for (position, name) in configured.enumerated() { index[name] = position }
        indexByName = index
    }

    /// The label index of a request's model (nil: the request named none).
    func index(of model: String?) -> Int {
        guard let model else { return none }
        return indexByName[model] ?? other
    }
}
