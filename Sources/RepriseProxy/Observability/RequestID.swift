import NIOCore
import NIOHTTP1
import RepriseRedis
import Synchronization

/// The request id of the access log and the `x-request-id` response header: the client's
/// `X-Request-Id` when it is a sane token, else one made here (a random prefix per process and
/// a counter: unique across restarts and replicas without reading randomness per request).
///
/// A made id is kept as its number and written as hex straight into the response head: no
/// string is built for it unless the access log asks.
enum RequestID: Sendable, Equatable {
    case client(String)
    case generated(UInt64)

    /// Longest client id kept; longer ones (or ones with other bytes) are replaced.
    static let maxClientLength = 128

    private static let prefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return Array(String(value, radix: 16).leftPadded(to: 16).utf8)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func of(_ headers: RequestHeaders) -> RequestID {
        // Most requests carry none: skip the case-insensitive search then.
        if headers.contains(name: "x-request-id"), let sent = headers.first(name: "x-request-id"), isAcceptable(sent) { return .client(sent) }
        return make()
    }

    static func make() -> RequestID {
        .generated(counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// The id as text (the access log).
    var text: String {
        switch self {
        case .client(let id): id
        case .generated(let number): String(decoding: Self.prefix, as: UTF8.self) + "-" + String(number, radix: 16)
        }
    }

    /// The id as a response head writes it (`ResponseWriter`'s reserved room counts 33 bytes
    /// for a made one).
    func write(into writer: inout RawByteWriter) {
        switch self {
        case .client(let id):
            writer.appendUTF8(id)
        case .generated(let number):
            Self.prefix.withUnsafeBytes { writer.append($0) }
            writer.append("-")
            writer.appendHex(number)
        }
    }

    /// Letters, digits and `-_.:/+=` only: the id goes into a header and a JSON log line as is.
    static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maxClientLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "="):
                return true
            default:
                return false
            }
        }
    }
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
