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

    private let flights = NIOLockedValueBox<[String: Entry]>([:])
    private let maxFollowers: Int
    private let maxFlights: Int

    init(config: CoalescingConfig) {
        self.maxFollowers = config.maxFollowers
        self.maxFlights = config.maxFlights
    }

    /// Joins the flight for `key` or starts one (`makeFlight` runs under the lock, cheaply).
    func joinOrLead(_ key: CacheKey, makeFlight: () -> Flight) -> Role {
        flights.withLockedValue { flights in
            if var entry = flights[key.redisKey] {
                guard entry.followers < maxFollowers else { return .alone }
                entry.followers += 1
                flights[key.redisKey] = entry
                return .follower(entry.flight)
            }
            guard flights.count < maxFlights else { return .alone }
            let flight = makeFlight()
            flights[key.redisKey] = Entry(flight: flight, followers: 0)
            return .leader(flight)
        }
    }

    /// The flight ended: later requests start their own (or hit the cache it filled).
    func land(_ key: CacheKey, flight: Flight) {
        flights.withLockedValue { flights in
            if flights[key.redisKey]?.flight === flight { flights[key.redisKey] = nil }
        }
    }
}
