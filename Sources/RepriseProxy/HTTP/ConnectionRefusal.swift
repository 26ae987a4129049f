/// A client connection over `server.max_connections`: it gets `error` (503, `retry-after: 1`)
/// without waiting for a request, then a lingering close.
struct ConnectionRefusal {
    let error: ProxyError
    /// On a TLS listener the answer waits for the handshake: the TLS handler drops plaintext
    /// written before it, and a client cannot read an answer it has no keys for.
    let afterTLSHandshake: Bool
}
