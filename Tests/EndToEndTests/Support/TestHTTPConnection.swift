import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request on its own plain HTTP/1.1 connection (NIO's codec, `NIOAsyncChannel`): the
/// test client behind `TestHTTP`. Parts are recorded as they arrive, with their time, so tests
/// can look at streaming; the connection closes after the answer.
enum TestHTTPConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func exchange(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)], body: String?, timeout: Duration
    ) async throws -> TestStreamedResponse {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw Failure(description: "not a plain http:// URL: \(url)")
        }
        let port = components.port ?? 80
        var target = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery { target += "?" + query }

        let sentAt = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        // The whole exchange has `timeout`: then the connection is closed, which ends the reads.
        let timedOut = NIOLockedValueBox(false)
        let timer = channel.channel.eventLoop.scheduleTask(in: timeAmount(timeout)) { [channel = channel.channel] in
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let timeoutError = { Failure(description: "no complete answer from \(url) within \(timeout)") }

        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: target)
            head.headers.add(name: "host", value: port == 80 ? host : "\(host):\(port)")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if let body {
                if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                    head.headers.add(name: "content-type", value: "application/json")
                }
                head.headers.replaceOrAdd(name: "content-length", value: String(body.utf8.count))
            }
            try await outbound.write(.head(head))
            if let body { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
            try await outbound.write(.end(nil))

            var parts = inbound.makeAsyncIterator()
            var responseHead: HTTPResponseHead?
            do {
                while responseHead == nil {
                    guard let part = try await parts.next() else {
                        throw timedOut.withLockedValue { $0 } ? timeoutError() : Failure(description: "\(url) closed the connection before answering")
                    }
                    // 1xx heads (100 Continue) precede the real one.
                    if case .head(let received) = part, !(100..<200).contains(received.status.code) { responseHead = received }
                }
            } catch let error as Failure {
                throw error
            } catch {
                throw timedOut.withLockedValue { $0 } ? timeoutError() : error
            }
            let headAt = ContinuousClock.now
            var received: [TestBodyPart] = []
            var bodyError: (any Error)?
            do {
                reading: while true {
                    guard let part = try await parts.next() else {
                        bodyError = timedOut.withLockedValue { $0 } ? timeoutError() : Failure(description: "the connection closed before the end of the body")
                        break
                    }
                    switch part {
                    case .body(let bytes): received.append(TestBodyPart(bytes: bytes, arrivedAt: .now))
                    case .end: break reading
                    case .head: continue
                    }
                }
            } catch {
                bodyError = timedOut.withLockedValue { $0 } ? timeoutError() : error
            }
            return TestStreamedResponse(
                status: Int(responseHead!.status.code), headers: responseHead!.headers,
                sentAt: sentAt, headAt: headAt, parts: received, bodyError: bodyError
            )
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
