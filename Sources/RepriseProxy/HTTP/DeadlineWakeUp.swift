import NIOCore

/// One scheduled wake-up that serves deadlines which move on every request (a connection's
/// idle, request, read and total timeouts).
///
/// Why not a scheduled task per deadline: scheduling and cancelling NIO tasks twice per request
/// was ~6% of a cache hit's event-loop time (perf). Instead the owner stores its deadlines and
/// asks `target(by:now:)` whether to `schedule`; a wake-up already due earlier is kept, and when it fires the owner
/// checks its deadlines and asks again. No wake-up is set further out than
/// `maxAhead`, so a kept one is never later than a deadline set after it (every deadline is at
/// least `maxAhead` away when set, or earlier than the kept wake-up, which then moves).
///
/// Not thread-safe: owned by a channel handler, used on its event loop.
struct DeadlineWakeUp {
    private let maxAhead: TimeAmount
    private var scheduled: Scheduled<Void>?
    private var scheduledAt: NIODeadline?

    init(maxAhead: TimeAmount) {
        self.maxAhead = maxAhead
    }

    /// When to schedule a wake-up so that one comes by `due`; nil when the one already
    /// scheduled comes in time (the usual case: then no closure is even created).
    func target(by due: NIODeadline, now: NIODeadline) -> NIODeadline? {
        let target = min(due, now + maxAhead)
        if scheduled != nil, let scheduledAt, scheduledAt <= target { return nil }
        return target
    }

    /// Replaces the scheduled wake-up by one that runs `fire` on `eventLoop` at `target`.
    mutating func schedule(at target: NIODeadline, on eventLoop: EventLoop, _ fire: @escaping () -> Void) {
        scheduled?.cancel()
        scheduledAt = target
        scheduled = eventLoop.assumeIsolated().scheduleTask(deadline: target, fire)
    }

    /// Call first thing when the wake-up fires.
    mutating func fired() {
        scheduled = nil
        scheduledAt = nil
    }

    mutating func cancel() {
        scheduled?.cancel()
        fired()
    }
}
