import NIOConcurrencyHelpers
import RepriseCore

/// The flights in progress, by cache key. Joining and leading are decided under one lock so two
/// concurrent identical requests can never both lead.
final class FlightRegistry: Sendable {
    enum Role {
        case leader(Flight)
        case follower(Flight)
        /// Coalescing is full (flight or follower cap): go upstream alone.
        case alone
    }

    private struct Entry {
        let flight: Flight
        var followers: Int
    }

    /// Keyed by `CacheKey` itself: its hash is computed once, when the key is made.
    private let flights = NIOLockedValueBox<[CacheKey: Entry]>([:])
    private let maxFollowers: Int
    private let maxFlights: Int

    init(config: CoalescingConfig) {
        self.maxFollowers = config.maxFollowers
        self.maxFlights = config.maxFlights
    }

    /// Joins the flight for `key` or starts one (`makeFlight` runs under the lock, cheaply).
    func joinOrLead(_ key: CacheKey, makeFlight: () -> Flight) -> Role {
        flights.withLockedValue { flights in
            if let entry = flights[key] {
                guard entry.followers < maxFollowers else { return .alone }
                flights[key]!.followers += 1
                return .follower(entry.flight)
            }
            guard flights.count < maxFlights else { return .alone }
            let flight = makeFlight()
            flights[key] = Entry(flight: flight, followers: 0)
            return .leader(flight)
        }
    }

    /// The flight ended: later requests start their own (or hit the cache it filled).
    func land(_ key: CacheKey, flight: Flight) {
        flights.withLockedValue { flights in
            if flights[key]?.flight === flight { flights[key] = nil }
        }
    }
}
