import COpenSSL

/// The thread's OpenSSL error queue, drained into strings. A stale error left in the queue
/// poisons the next call on that thread, so every failing call drains it.
public enum OpenSSLErrorStack {
    public static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }

    /// Empties this thread's error queue, so that the next call's failure is read alone. Called
    /// before every OpenSSL call on the TLS path (several per request), where the queue is
    /// nearly always empty already: `ERR_clear_error` resets all 16 slots of the queue each time
    /// (about 400 instructions), a peek finds it empty for far less.
    public static func clear() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }
}
