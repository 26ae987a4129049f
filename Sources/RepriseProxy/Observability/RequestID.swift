import NIOHTTP1
import Synchronization

/// The request id of the access log and the `x-request-id` response header: the client's
/// `X-Request-Id` when it is a sane token, else one made here.
enum RequestID {
    /// Longest client id kept; longer ones (or ones with other bytes) are replaced.
    static let maxClientLength = 128

    /// A random prefix per process and a counter: unique across restarts and replicas without
    /// reading randomness per request.
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return String(value, radix: 16).leftPadded(to: 16)
    }()
    private static let counter = Atomic<UInt64>(0)

    static func of(_ headers: HTTPHeaders) -> String {
        if let sent = headers.first(name: "x-request-id"), isAcceptable(sent) { return sent }
        return make()
    }

    static func make() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(number, radix: 16)
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
