import RepriseHTTP

/// An error the connection answers itself, in OpenAI's error shape, before ending the connection:
/// a refusal (503), a request over a limit (413, 431), one that did not arrive in time (408), or
/// a stream the parser could not read (400).
struct ConnectionErrorAnswer: Equatable {
    var error: ProxyError
    /// The request being answered, when its head was read: a HEAD request gets no body and an
    /// HTTP/1.0 client its own framing.
    var head: ParsedRequestHead?
    /// Sent as `retry-after` (the refusal: the client may retry on another connection shortly).
    var retryAfterSeconds: Int?

    var isHeadRequest: Bool { head?.httpMethod == .HEAD }
    var isHTTP10: Bool { head.map { $0.versionMajor == 1 && $0.versionMinor == 0 } ?? false }
}
