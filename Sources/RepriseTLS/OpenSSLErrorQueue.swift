import COpenSSL

/// The calling thread's OpenSSL error queue. A stale error left in the queue poisons the next
/// call on that thread, so every call into libssl is preceded by `clear()` and every failure is
/// followed by `drain()`. (RepriseCrypto has the same helper; RepriseTLS may not import it.)
enum OpenSSLErrorQueue {
    static func drain() -> [String] {
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

    static func clear() {
        ERR_clear_error()
    }
}
