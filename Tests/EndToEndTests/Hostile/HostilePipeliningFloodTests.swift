import Foundation
import NIOConcurrencyHelpers
import Testing

/// Clients that pipeline cache hits and never read their answers: the process's memory stays
/// bounded (issue 18: main grew from 33 MB to 139 MB in 10 s with 20 such connections) and it
/// still answers afterwards.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostilePipeliningFloodTests {
    static let connections = 20
    static let floodDuration: Duration = .seconds(10)
    /// Well under main's ~100 MB of growth, well over what bounded buffers need
    /// (20 connections × a socket buffer and one batch of requests each).
    static let maxGrowthBytes = 40 << 20

    @Test func pipelinedHitsThatAreNeverReadDoNotGrowMemoryWithoutBound() async throws {
        try await withHostileProxyBed { bed in
            let pid = bed.proxy.process.pid
            // Warm up: the answer is stored, then the hit path, its buffers and the event loops
            // are all in use once.
            for round in 0..<50 {
                let outcome = try RawHTTPExchange.send(Self.hitRequest(close: true), port: bed.proxy.port)
                // Right after the first answer its flight may still be landing: a repeat then
                // joins it (COALESCED) instead of finding the stored entry.
                guard case .answered(let response, _) = outcome, response.status == 200,
                      round == 0 || ["HIT", "COALESCED"].contains(response.header("x-cache")) else {
                    Issue.record("warm-up request \(round): \(outcome)")
                    return
                }
            }
            let baseline = try #require(ProcessMemory.residentBytes(pid: pid))

            let batch = (0..<200).flatMap { _ in Self.hitRequest(close: false) }
            let deadline = ContinuousClock.now + Self.floodDuration
            let sent = NIOLockedValueBox(0)
            let finished = NIOLockedValueBox(0)
            let port = bed.proxy.port
            for _ in 0..<Self.connections {
                Thread {
                    if let socket = try? BlockingSocket(port: port) {
                        socket.setSendTimeout(.milliseconds(200))
                        while ContinuousClock.now < deadline {
                            let count = socket.sendIgnoringClose(batch)
                            sent.withLockedValue { $0 += count }
                        }
                    }
                    finished.withLockedValue { $0 += 1 }
                }.start()
            }
            var peak = baseline
            while finished.withLockedValue({ $0 }) < Self.connections {
                if let resident = ProcessMemory.residentBytes(pid: pid) { peak = max(peak, resident) }
                try await Task.sleep(for: .milliseconds(100))
            }
            let growth = peak - baseline
            let sentBytes = sent.withLockedValue { $0 }
            print("pipelining flood: RSS \(baseline >> 20) MiB -> peak \(peak >> 20) MiB (growth \(growth >> 20) MiB), "
                + "\(sentBytes >> 20) MiB of requests sent by \(Self.connections) connections in \(Self.floodDuration)")
            #expect(sentBytes > 1 << 20, "the flood sent too little to mean anything")
            #expect(Double(growth) < Double(Self.maxGrowthBytes) * ProcessMemory.allowanceFactor, "RSS grew by \(growth >> 20) MiB (from \(baseline >> 20) MiB to \(peak >> 20) MiB)")

            // The flood connections are closed: the process answers again, hits included.
            #expect(bed.isAlive(), "reprise no longer answers /healthz after the flood")
            let after = try RawHTTPExchange.send(Self.hitRequest(close: true), port: bed.proxy.port, timeout: .seconds(20))
            guard case .answered(let response, _) = after else {
                Issue.record("no answer after the flood: \(after)")
                return
            }
            #expect(response.status == 200)
            #expect(response.header("x-cache") == "HIT")
        }
    }

    /// An embedding of 400 dimensions: a stored answer of about 3.9 KB, just under the size a
    /// hit copies into its response buffer (`ResponseWriter.storedBodyCopyLimit`, 4 KiB), so
    /// each ~250-byte request a client pipelines makes ~4 KB the server must hold until the
    /// client reads.
    static let embeddingBody = Array(#"{"model":"text-embedding-3-small","input":"hostile flood","dimensions":400}"#.utf8)

    /// The embedding request with tenant A's credential (a hit once the warm-up stored it).
    static func hitRequest(close: Bool) -> [UInt8] {
        HostileRequest.bytes(target: "/v1/embeddings", credential: .tenantA, body: embeddingBody, close: close)
    }
}
