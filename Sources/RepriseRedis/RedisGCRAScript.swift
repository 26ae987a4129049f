/// The fleet's rate limits in Redis: one atomic script decides every limit of one identity
/// with GCRA (a TAT per limit, in microseconds), the same arithmetic as `RepriseCore.GCRA`:
/// allowed when every limit allows, and then counted in all of them; denied, counted in none.
///
/// Time is Redis's own (`TIME`), so a fleet's clocks need not agree; a test passes its own.
public enum RedisGCRAScript {
    /// One limit: `limit` units per `periodMicroseconds`, this request costing `cost`.
    public struct Limit: Sendable, Equatable {
        public var key: String
        public var limit: Int
        public var periodMicroseconds: Int64
        public var cost: Int

        public init(key: String, limit: Int, periodMicroseconds: Int64, cost: Int) {
            self.key = key
            self.limit = limit
            self.periodMicroseconds = periodMicroseconds
            self.cost = cost
        }
    }

    /// One limit's answer (the fields of `GCRA.Result`).
    public struct Outcome: Sendable, Equatable {
        public var allowed: Bool
        public var tat: Int64
        public var remaining: Int
        public var resetMicroseconds: Int64
        public var retryAfterMicroseconds: Int64
    }

    /// `now` in µs: ARGV[1], or Redis's `TIME` when it is empty.
    private static let now = """
        local now = tonumber(ARGV[1])
        if not now then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        end

        """

    /// KEYS: one per limit. ARGV: now in µs (empty: Redis's `TIME`), then limit, period (µs)
    /// and cost per key. Answers `{all_allowed, then per key: allowed, tat, remaining, reset,
    /// retry_after}`. A TAT key expires when its limit is whole again. 2^53 bounds the TAT
    /// (doubles are exact below it; `GCRA` saturates there too).
    public static let decide = RedisScript(source: now + """
        local out = {1}
        local tats = {}
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[i * 3 - 1])
          local period = tonumber(ARGV[i * 3])
          local cost = tonumber(ARGV[i * 3 + 1])
          local interval = math.max(1, math.floor(period / limit))
          local tat = math.max(tonumber(redis.call('GET', KEYS[i])) or now, now)
          local new = math.min(tat + math.max(0, cost) * interval, 9007199254740992)
          local base = #out
          if new - now <= period then
            tats[i] = new
            out[base + 1] = 1
            out[base + 2] = new
            out[base + 3] = math.floor((period - (new - now)) / interval)
            out[base + 4] = new - now
            out[base + 5] = 0
          else
            out[1] = 0
            out[base + 1] = 0
            out[base + 2] = tat
            out[base + 3] = math.floor(math.max(0, period - (tat - now)) / interval)
            out[base + 4] = tat - now
            out[base + 5] = new - period - now
          end
        end
        if out[1] == 1 then
          for i = 1, #KEYS do
            redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', math.floor((tats[i] - now) / 1000) + 1)
          end
        end
        return out
        """)

    /// KEYS[1]: a token limit's TAT. ARGV: now (µs, empty: `TIME`), emission interval (µs),
    /// token delta (the answer's usage minus the estimate counted). A refund never moves the
    /// TAT before now (`GCRA.corrected`).
    public static let correct = RedisScript(source: now + """
        local shift = tonumber(ARGV[2]) * tonumber(ARGV[3])
        local stored = tonumber(redis.call('GET', KEYS[1]))
        if not stored then return 0 end
        local tat
        if shift > 0 then
          tat = math.min(math.max(stored, now) + shift, 9007199254740992)
        elseif stored > now then
          tat = math.max(now, stored + shift)
        else
          return 0
        end
        redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1)
        return 1
        """)

    public static func arguments(now: Int64?, limits: [Limit]) -> (keys: [String], arguments: [String]) {
        var arguments = [now.map(String.init) ?? ""]
        for limit in limits {
            arguments += [String(limit.limit), String(limit.periodMicroseconds), String(limit.cost)]
        }
        return (limits.map(\.key), arguments)
    }

    /// The first element, then five per limit.
    public static func outcomes(_ reply: RedisReply, count: Int) throws(RedisError) -> [Outcome] {
        guard case .array(let items) = reply, items.count == 1 + 5 * count else {
            throw RedisError(.protocolError, "the rate-limit script answered \(reply)")
        }
        let numbers = items.map { $0.integer }
        guard !numbers.contains(where: { $0 == nil }) else { throw RedisError(.protocolError, "the rate-limit script answered a non-integer") }
        let values = numbers.map { $0! }
        return (0..<count).map { index in
            let base = 1 + index * 5
            return Outcome(allowed: values[base] == 1, tat: values[base + 1], remaining: Int(values[base + 2]),
                           resetMicroseconds: values[base + 3], retryAfterMicroseconds: values[base + 4])
        }
    }
}
