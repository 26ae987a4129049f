extension FlightStateMachine {
    /// The actions of one event, in the order they must run.
    ///
    /// Most events decide one action or none (a part for the followers receiving); those are
    /// held inline, so the per-part path allocates nothing. Events that reach several
    /// followers (head, completion) spill into an array.
    struct Actions: Sequence, Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
        private var first: Action?
        private var rest: [Action] = []

        init() {}

        init(arrayLiteral actions: Action...) {
            for action in actions { append(action) }
        }

        var isEmpty: Bool { first == nil }

        /// As a list, for traces.
        var description: String { Array(self).description }

        mutating func append(_ action: Action) {
            if first == nil { first = action } else { rest.append(action) }
        }

        func makeIterator() -> Iterator { Iterator(first: first, rest: rest.makeIterator()) }

        struct Iterator: IteratorProtocol {
            fileprivate var first: Action?
            fileprivate var rest: IndexingIterator<[Action]>

            mutating func next() -> Action? {
                if let action = first {
                    first = nil
                    return action
                }
                return rest.next()
            }
        }
    }
}
