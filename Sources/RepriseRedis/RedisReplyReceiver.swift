import NIOCore

/// Who is told a command's reply or failure, on the connection's event loop: a promise (the
/// future API), or a function (a cache lookup: no future made per command).
enum RedisReplyReceiver: Sendable {
    case promise(EventLoopPromise<RedisReply>)
    case function(@Sendable (Result<RedisReply, any Error>) -> Void)

    func complete(_ result: Result<RedisReply, any Error>) {
        switch self {
        case .promise(let promise): promise.completeWith(result)
        case .function(let function): function(result)
        }
    }

    func succeed(_ reply: RedisReply) { complete(.success(reply)) }
    func fail(_ error: any Error) { complete(.failure(error)) }
}
