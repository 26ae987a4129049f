import Foundation
import Testing

/// Broken upstream answers (huge token counts, CR/LF in headers, cut frames, lying lengths)
/// through the real binary: the process lives on, the client gets a clear 502 or the answer
/// passed through, and a broken answer is never stored.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileUpstreamAnswerTests {
    /// One attempt and no breaker: every case reaches the upstream exactly once, and a run of
    /// failures does not open the circuit for the next case.
    static let yaml = """
        upstream:
          retry:
            max_attempts: 1
          circuit_breaker:
            enabled: false

        """

    static let credential = "Authorization: Bearer sk-hostile-upstream"

    @Test func brokenAnswersNeverStopTheProcessAndAreNeverStored() async throws {
        try await withHostileProxyBed(yaml: Self.yaml) { bed in
            try await bed.checkEach(MalformedUpstreamAnswer.all, kind: "upstream answer", name: \.name) { answer in
                try await run(answer, on: bed)
            }
        }
    }

    private func request(_ question: String, stream: Bool, faults: [(String, String)]) -> [UInt8] {
        var body = Chat.body(question, stream: stream)
        if stream {
            body = body.replacingOccurrences(of: "\"stream\":true", with: "\"stream\":true,\"stream_options\":{\"include_usage\":true}")
        }
        return HostileRequest.bytes(
            credential: .other(Self.credential),
            lines: faults.map { HostileRequest.line("\($0.0): \($0.1)") },
            body: Array(body.utf8)
        )
    }

    private func run(_ answer: MalformedUpstreamAnswer, on bed: HostileProxyBed) async throws -> [String] {
        var problems: [String] = []
        let question = Chat.freshQuestion("upstream")
        // Twice when storing is allowed: the second may be a hit, whose replay reads the stored usage.
        for _ in 0..<(answer.mayBeStored ? 2 : 1) {
            let outcome = try RawHTTPExchange.send(request(question, stream: answer.stream, faults: answer.faultHeaders), port: bed.proxy.port)
            print("upstream answer \"\(answer.name)\": \(String(describing: outcome).prefix(200).replacingOccurrences(of: "\r\n", with: " "))")
            problems += Self.check(outcome)
            if let death = try await bed.restartIfDead() {
                return problems + ["the process did not survive (\(death))"]
            }
        }
        if !answer.mayBeStored {
            let clean = try RawHTTPExchange.send(request(question, stream: answer.stream, faults: []), port: bed.proxy.port)
            if case .answered(let response, _) = clean {
                if response.status != 200 { problems.append("the clean request afterwards got \(response.status)") }
                if response.header("x-cache") == "HIT" { problems.append("the broken answer was stored (the clean request afterwards was a HIT)") }
            } else {
                problems.append("the clean request afterwards: \(clean)")
            }
        }
        return problems
    }

    /// A clear 502/504 in OpenAI's shape, or the answer passed through (possibly cut off, for a
    /// stream already started); never a head carrying a raw CR or LF inside a header line.
    static func check(_ outcome: RawHTTPExchange.Outcome) -> [String] {
        switch outcome {
        case .timedOut:
            return ["no answer: \(outcome)"]
        case .closedWithoutAnswer(let received):
            // A stream cut after its head is what a client of a cut upstream stream sees.
            let text = String(decoding: received, as: UTF8.self)
            return text.hasPrefix("HTTP/1.1 200") ? Self.checkHead(text) : ["closed without an answer: \(outcome)"]
        case .answered(let response, _):
            var problems = checkHead(response.head)
            if response.status >= 400 {
                if ![502, 504].contains(response.status) { problems.append("status \(response.status), expected 200 or 502") }
                if OpenAIErrorDocument(response.text) == nil { problems.append("error not in OpenAI's shape: \(response.text.prefix(300))") }
            }
            return problems
        }
    }

    /// Every header line is one line: no CR, no LF inside, no continuation line.
    static func checkHead(_ text: String) -> [String] {
        let head = text.components(separatedBy: "\r\n\r\n").first ?? text
        var problems: [String] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.contains("\r") || line.contains("\n") || line.hasPrefix(" ") || line.hasPrefix("\t") {
                problems.append("a header line carries a raw line break to the client: \(line.debugDescription.prefix(200))")
            }
        }
        return problems
    }
}
