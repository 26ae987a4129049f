import NIOHTTP1

/// Header lines as the upstream encoder reads them: each name and value as bytes, in order.
/// A client's request is `RequestHeaders` (read in its received bytes, no `String` made);
/// `HTTPHeaders` is one too, for heads built in code (the encoder's tests).
protocol RequestHeaderLines {
    func forEachLine(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void)
}

extension RequestHeaders: RequestHeaderLines {}

extension HTTPHeaders: RequestHeaderLines {
    func forEachLine(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        for (name, value) in self {
            var name = name, value = value
            name.withUTF8 { name in value.withUTF8 { value in body(name, value) } }
        }
    }
}
