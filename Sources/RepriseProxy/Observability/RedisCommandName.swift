/// The `command` label of `llm_redis_command_duration_seconds`.
enum RedisCommandName: String, Hashable, Sendable, CaseIterable {
    case get, set
}
