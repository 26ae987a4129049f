import Foundation

/// An HTTP/1.x response parsed from raw bytes by the tests themselves (any version, any
/// framing), so a test can check the framing a server chose, not only the body.
struct ParsedHTTPResponse {
    enum ParseResult {
        /// The first response, and how many bytes it took.
        case complete(ParsedHTTPResponse, consumed: Int)
        case incomplete
        case malformed(String)
    }

    /// `HTTP/1.1` or `HTTP/1.0` as the status line says.
    let version: String
    let status: Int
    /// Status line and header lines, without the blank line.
    let head: String
    let headers: [(name: String, value: String)]
    /// The body after de-chunking.
    let body: [UInt8]
    let isChunked: Bool

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Parses the first response in `bytes`. A body without length or chunking ends with the
    /// connection: it is complete only once `peerClosed`. Interim 1xx answers are skipped.
    static func parse(_ bytes: [UInt8], peerClosed: Bool) -> ParseResult {
        var start = 0
        while true {
            guard let headEnd = find([13, 10, 13, 10], in: bytes, from: start) else {
                return .incomplete
            }
            let head = String(decoding: bytes[start..<headEnd], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
                return .malformed("status line \(lines[0].prefix(200))")
            }
            let bodyStart = headEnd + 4
            if (100..<200).contains(status) {
                start = bodyStart
                continue
            }
            var headers: [(name: String, value: String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { return .malformed("header line \(line.prefix(200))") }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let chunked = headers.contains { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }
            let make = { (body: [UInt8]) in
                ParsedHTTPResponse(version: String(statusParts[0]), status: status, head: head, headers: headers, body: body, isChunked: chunked)
            }
            if status == 204 || status == 304 {
                return .complete(make([]), consumed: bodyStart)
            }
            if chunked {
                guard let (body, end) = dechunk(bytes, from: bodyStart) else { return .incomplete }
                return .complete(make(body), consumed: end)
            }
            if let lengthText = headers.first(where: { $0.name.lowercased() == "content-length" })?.value {
                guard let length = Int(lengthText), length >= 0 else { return .malformed("content-length \(lengthText)") }
                guard bytes.count - bodyStart >= length else { return .incomplete }
                return .complete(make(Array(bytes[bodyStart..<(bodyStart + length)])), consumed: bodyStart + length)
            }
            return peerClosed ? .complete(make(Array(bytes[bodyStart...])), consumed: bytes.count) : .incomplete
        }
    }

    /// The de-chunked body and the index after the last chunk's trailer, or nil when incomplete.
    private static func dechunk(_ bytes: [UInt8], from start: Int) -> (body: [UInt8], end: Int)? {
        var body: [UInt8] = []
        var index = start
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else { return nil }
            index = lineEnd + 2
            if size == 0 {
                // Trailer lines, then the blank line.
                while true {
                    guard let trailerEnd = find([13, 10], in: bytes, from: index) else { return nil }
                    let isBlank = trailerEnd == index
                    index = trailerEnd + 2
                    if isBlank { return (body, index) }
                }
            }
            guard bytes.count >= index + size + 2 else { return nil }
            body.append(contentsOf: bytes[index..<(index + size)])
            index += size + 2
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}
