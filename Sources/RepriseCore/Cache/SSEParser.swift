/// One server-sent event (WHATWG HTML §9.2).
public struct SSEEvent: Sendable, Equatable {
    /// `event:` field, if any.
    public var event: String?
    /// `data:` lines joined with `\n`.
    public var data: [UInt8]
    /// `id:` field, if any.
    public var id: String?

    public init(event: String? = nil, data: [UInt8], id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// Why an SSE stream could not be parsed.
public struct SSEParserError: Error, Equatable, CustomStringConvertible {
    public let limit: Int
    public var description: String { "SSE line or event longer than \(limit) bytes" }
}

/// Incremental SSE parser: feed arbitrary byte slices, get the events they complete.
///
/// Lines end with `\n`, `\r\n` or `\r` (a `\r` at the end of one slice followed by `\n` at the
/// start of the next is one line end). `data:` lines accumulate; a blank line dispatches the event
/// (not when it has no data); `:` lines are comments; one space after `field:` is dropped.
/// A line or an event longer than `maxLineBytes` throws (the stream is then not recordable).
public struct SSEParser: Sendable {
    public let maxLineBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var event: String?
    private var id: String?
    private var lastWasCR = false

    public init(maxLineBytes: Int = 4 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds bytes and returns the events completed by them, in order.
    ///
    /// Copies a non-contiguous input once and parses it through the contiguous path: iterating
    /// a generic sequence from another module ran unspecialized and allocated twice per byte.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(SSEParserError) -> [SSEEvent] where Bytes.Element == UInt8 {
        var result: Result<[SSEEvent], SSEParserError> = .success([])
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            result = Result { () throws(SSEParserError) in try self.feed(UnsafeRawBufferPointer(buffer)) }
        }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { raw in
                result = Result { () throws(SSEParserError) in try self.feed(raw) }
            }
        }
        return try result.get()
    }

    /// Feeds contiguous bytes (the path every other `feed` takes).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(SSEParserError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A, 0x0D:
                lastWasCR = byte == 0x0D
                if let dispatched = try processLine() { events.append(dispatched) }
                line.removeAll(keepingCapacity: true)
            default:
                guard line.count < maxLineBytes else { throw SSEParserError(limit: maxLineBytes) }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func processLine() throws(SSEParserError) -> SSEEvent? {
        if line.isEmpty {
            defer {
                data.removeAll(keepingCapacity: true)
                hasData = false
                event = nil
            }
            guard hasData else { return nil }
            return SSEEvent(event: event, data: data, id: id)
        }
        if line[0] == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
        var valueStart = colon < line.count ? colon + 1 : colon
        if valueStart < line.count, line[valueStart] == 0x20 { valueStart += 1 }
        let name = line[..<colon], value = line[valueStart...]
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
            guard data.count <= maxLineBytes else { throw SSEParserError(limit: maxLineBytes) }
        } else if name.elementsEqual("event".utf8) {
            event = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("id".utf8) {
            if !value.contains(0) { id = String(decoding: value, as: UTF8.self) }
        }
        return nil
    }
}

/// Writes SSE bytes the way OpenAI-compatible upstreams do.
public enum SSEEncoder {
    public static let doneData: [UInt8] = Array("[DONE]".utf8)

    /// Appends `data: <payload>\n\n` (one `data:` line per line of the payload).
    public static func encode(data: [UInt8], into out: inout [UInt8]) {
        var lineStart = 0
        for index in 0 ... data.count where index == data.count || data[index] == 0x0A {
            out.append(contentsOf: "data: ".utf8)
            out.append(contentsOf: data[lineStart ..< index])
            out.append(0x0A)
            lineStart = index + 1
        }
        out.append(0x0A)
    }

    public static func encode(data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        encode(data: data, into: &out)
        return out
    }

    /// A whole replayed Responses API stream: every event as `event: <type>` (read from the
    /// `type` its data carries, as the API names them) and its data; no `[DONE]`, which that
    /// API never sends (its last event is `response.completed` / `response.incomplete`).
    public static func encodeResponsesStream(events: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.reduce(0) { $0 + $1.count + 48 })
        for event in events {
            if let name = eventName(ofTypedData: event) {
                out.append(contentsOf: "event: ".utf8)
                out.append(contentsOf: name)
                out.append(0x0A)
            }
            encode(data: event, into: &out)
        }
        return out
    }

    /// The `type` string at the top level of `data`, when it can be written as an event name:
    /// printable ASCII only (a stored value with a line break would end the field early and
    /// inject lines into every replay).
    static func eventName(ofTypedData data: [UInt8]) -> ArraySlice<UInt8>? {
        let scanner = JSONFieldScanner(bytes: data)
        guard let members = scanner.members(ofObjectAt: 0), let range = scanner.member("type", in: members),
              range.count > 2, data[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let name = data[(range.lowerBound + 1) ..< (range.upperBound - 1)]
        guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else { return nil }
        return name
    }

    /// A whole replayed stream: every event, then `data: [DONE]`.
    public static func encodeStream(events: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(events.reduce(16) { $0 + $1.count + 8 })
        for event in events { encode(data: event, into: &out) }
        encode(data: doneData, into: &out)
        return out
    }
}
