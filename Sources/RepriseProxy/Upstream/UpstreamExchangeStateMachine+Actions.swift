extension UpstreamExchangeStateMachine {
    /// The actions of one event, in the order they must run.
    ///
    /// No event decides more than three, so they are held inline: running an exchange
    /// allocates nothing for its decisions.
    struct Actions: Sequence, Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
        private var first: Action?
        private var second: Action?
        private var third: Action?

        /// For traces (`[.a, .b]`). The machine builds its actions with the initializers
        /// below: a literal's elements are passed as an array, allocated on the heap for each
        /// event (callgrind: 4 of a pass-through's 32 mallocs).
        init(arrayLiteral actions: Action...) {
            for action in actions { append(action) }
        }

        init(_ first: Action) {
            self.first = first
        }

        init(_ first: Action, _ second: Action) {
            self.first = first
            self.second = second
        }

        init(_ first: Action, _ second: Action, _ third: Action) {
            self.first = first
            self.second = second
            self.third = third
        }

        /// As a list, for traces.
        var description: String { Array(self).description }

        mutating func append(_ action: Action) {
            if first == nil {
                first = action
            } else if second == nil {
                second = action
            } else {
                precondition(third == nil, "an exchange event decides at most three actions")
                third = action
            }
        }

        func makeIterator() -> Iterator { Iterator(actions: self) }

        /// Reads the actions in place: shifting them along a tuple copied every action (an
        /// action can carry an error's text) three times per step.
        struct Iterator: IteratorProtocol {
            fileprivate let actions: Actions
            fileprivate var position = 0

            mutating func next() -> Action? {
                defer { position += 1 }
                switch position {
                case 0: return actions.first
                case 1: return actions.second
                case 2: return actions.third
                default: return nil
                }
            }
        }
    }
}
