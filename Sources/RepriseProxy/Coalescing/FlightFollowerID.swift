/// A follower of a flight, as its state machine names it: the position in joining order
/// (0 for the first follower). The runner keeps the follower's writer at the same index.
struct FlightFollowerID: Hashable, Sendable, CustomStringConvertible {
    let index: Int

    var description: String { "follower \(index)" }
}
