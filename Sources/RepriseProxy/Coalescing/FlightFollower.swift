/// What a flight's state machine knows of one follower: the shape it asked for and how far it
/// is. The follower's writer and its way back to the upstream stay with the runner (`Flight`).
struct FlightFollower: Equatable, Sendable {
    /// - `waiting`: nothing sent yet; a follower of the leader's shape waits for the head, one of
    ///   the other shape for the whole answer (to convert it).
    ///   Can transition to: `receiving` (head and backlog sent), `done`.
    /// - `receiving`: has the head and the parts so far, and receives each part as it arrives.
    ///   Can transition to: `done` (ended, cut off, or its client left).
    /// - `done`: answered, handed back to make its own call, or its client left. Terminal.
    enum Phase: Equatable, Sendable {
        case waiting
        case receiving
        case done
    }

    let shape: ReplayShape
    /// Asked for the leader's shape: can be sent the answer as it arrives. (An error answer is
    /// sent to every follower as it arrives, whatever its shape.)
    let sharesLeaderShape: Bool
    var phase = Phase.waiting
}
