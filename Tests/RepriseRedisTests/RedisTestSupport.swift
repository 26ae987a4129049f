import Foundation
import NIOCore
import NIOPosix
import RepriseRedis

let testGroup = MultiThreadedEventLoopGroup.singleton

func makeClient(_ url: String, poolSize: Int = 2, commandTimeout: TimeAmount = .seconds(5)) throws -> RedisClient {
    var configuration = try RedisConfiguration(url: url)
    configuration.poolSize = poolSize
    configuration.commandTimeout = commandTimeout
    configuration.connectTimeout = .seconds(5)
    return RedisClient(configuration: configuration, eventLoopGroup: testGroup)
}

/// Runs `body` with a fresh server and stops it afterwards, whatever happens.
func withRedisServer<T>(
    extraArguments: [String] = [],
    _ body: (RedisServerProcess) async throws -> T
) async throws -> T {
    let server = try await RedisServerProcess.start(extraArguments: extraArguments)
    defer { server.stop() }
    return try await body(server)
}

/// Polls `condition` until it holds or `timeout` passes (generous: the machine is shared).
func eventually(timeout: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

func errorCode(_ body: () async throws -> Void) async -> RedisError.Code? {
    do {
        try await body()
        return nil
    } catch let error as RedisError {
        return error.code
    } catch {
        return nil
    }
}
