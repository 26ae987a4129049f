import NIOCore

/// The time-to-first-byte deadlines of a pool's calls (`upstream.first_byte_timeout` per
/// attempt), kept so that one wake-up of the pool serves them all.
///
/// Why not a scheduled task per attempt: scheduling and cancelling one NIO task per miss was
/// 1.7% of its CPU and 3 of its mallocs (perf); the client connection's deadlines went the same
/// way (`DeadlineWakeUp`). A call is watched from the attempt's start until its head, its end or
/// its failure; calls usually end in the order they started, so the one to drop is found near
/// the front.
///
/// Not thread-safe: owned by the pool, used on its event loop.
struct FirstByteDeadlines {
    private var watched = CircularBuffer<(deadline: NIODeadline, call: UpstreamCall)>()

    var isEmpty: Bool { watched.isEmpty }

    /// The earliest deadline watched.
    var earliest: NIODeadline? {
        watched.lazy.map(\.deadline).min()
    }

    mutating func watch(_ call: UpstreamCall, until deadline: NIODeadline) {
        watched.append((deadline, call))
    }

    mutating func unwatch(_ call: UpstreamCall) {
        if watched.first?.call === call {
            // The usual case: the oldest call's head came first.
            watched.removeFirst()
        } else if let index = watched.firstIndex(where: { $0.call === call }) {
            watched.remove(at: index)
        }
    }

    /// Takes out the calls whose deadline passed by `now`, in the order they were watched.
    /// The caller tells them after, so that what they do (retries watching new calls) does not
    /// meet this walk.
    mutating func takeDue(now: NIODeadline) -> [UpstreamCall] {
        guard let earliest, earliest <= now else { return [] }
        var due: [UpstreamCall] = []
        var kept = CircularBuffer<(deadline: NIODeadline, call: UpstreamCall)>(initialCapacity: watched.count)
        for entry in watched {
            if entry.deadline <= now { due.append(entry.call) } else { kept.append(entry) }
        }
        watched = kept
        return due
    }
}
