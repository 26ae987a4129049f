/// One malformed request of the hostile-input table: the exact bytes sent on a fresh
/// connection and what the specification promises for them.
struct HostileRequestCase: Sendable {
    /// What must come back.
    enum Expectation: Sendable, CustomStringConvertible {
        /// An answer with one of these statuses (the upstream's or Reprise's). An error status
        /// comes with a body in OpenAI's error shape.
        case answered([Int])
        /// Reprise's own error in OpenAI's shape with this status and `code`, then the
        /// connection closes.
        case refused(Int, code: String)

        var description: String {
            switch self {
            case .answered(let statuses): "answered \(statuses.map(String.init).joined(separator: " or "))"
            case .refused(let status, let code): "\(status) \(code) then close"
            }
        }
    }

    let name: String
    let bytes: [UInt8]
    let expected: Expectation
    let credential: HostileCredential
    /// An HTTP/1.0 client cannot read chunked encoding: its answer must not use it.
    var forbidsChunked = false
    /// Longest wait for the answer (timeouts of the server itself take longer to show).
    var timeout: Duration = .seconds(10)

    init(
        _ name: String,
        _ bytes: [UInt8],
        _ expected: Expectation,
        credential: HostileCredential = .none,
        forbidsChunked: Bool = false,
        timeout: Duration = .seconds(10)
    ) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
        self.credential = credential
        self.forbidsChunked = forbidsChunked
        self.timeout = timeout
    }
}

/// Builds request bytes by hand: header lines are bytes, so they can hold NUL, CR or LF.
enum HostileRequest {
    static let chatPath = "/v1/chat/completions"

    /// The question every tenant asked: a hostile request with this body that is answered from
    /// the cache gets some tenant's answer.
    static let sharedBody = Array(#"{"model":"deepseek-chat","messages":[{"role":"user","content":"hostile shared question"}]}"#.utf8)

    /// `sharedBody` gzip-compressed (python3 `gzip.compress(body, mtime=0)`).
    static let sharedBodyGzip: [UInt8] = hexBytes(
        "1f8b08000000000002030d8acd0d80200c4657213deb02ac623c10f82246a04acb89b0bb3dbe9f4995130a794ac02bc0b3c7"
            + "1c9436aa10091784fc31a973813d43d02d456e8aa626328bde054e72e848ee1b30e646eb5c3f0963faca5a000000"
    )

    /// A chat body whose content is `content` (raw bytes, not escaped).
    static func chatBody(content: [UInt8], extraMembers: String = "") -> [UInt8] {
        Array(#"{"model":"deepseek-chat","messages":[{"role":"user","content":""#.utf8) + content
            + Array("\"}]\(extraMembers)}".utf8)
    }

    /// `METHOD TARGET VERSION`, Host, then (with a body) Content-Type and Content-Length unless
    /// `contentLength` is false, `Connection: close` when `close`, the credential, the extra
    /// lines, a blank line and the body.
    static func bytes(
        method: String = "POST",
        target: String = chatPath,
        version: String = "HTTP/1.1",
        credential: HostileCredential = .none,
        lines: [[UInt8]] = [],
        body: [UInt8]? = sharedBody,
        contentLength: Bool = true,
        close: Bool = true
    ) -> [UInt8] {
        var head: [[UInt8]] = [Array("\(method) \(target) \(version)".utf8), Array("Host: reprise.test".utf8)]
        if let body {
            head.append(Array("Content-Type: application/json".utf8))
            if contentLength { head.append(Array("Content-Length: \(body.count)".utf8)) }
        }
        if close { head.append(Array("Connection: close".utf8)) }
        if let credential = credential.headerLine { head.append(Array(credential.utf8)) }
        head += lines
        var out: [UInt8] = []
        for line in head { out += line + [13, 10] }
        out += [13, 10]
        return out + (body ?? [])
    }

    static func line(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// `body` in chunks of `size` bytes (each with `extension` after its size), then the last
    /// chunk unless `final` is false.
    static func chunked(_ body: [UInt8], size: Int = 16, extension chunkExtension: String = "", final: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < body.count {
            let end = min(body.count, index + size)
            out += Array("\(String(end - index, radix: 16))\(chunkExtension)\r\n".utf8) + body[index..<end] + [13, 10]
            index = end
        }
        if final { out += Array("0\r\n\r\n".utf8) }
        return out
    }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = hex.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(UInt8(String([high, low]), radix: 16) ?? 0)
        }
        return bytes
    }
}
