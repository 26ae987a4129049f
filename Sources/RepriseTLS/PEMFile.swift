#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL

/// The bytes of one PEM file, read once so that what is parsed is exactly what is hashed for
/// change detection (no window between "check" and "load" during a Secret rotation).
struct PEMFile {
    /// Certificates and keys are small; refuse anything absurd instead of reading it whole.
    static let maximumSize = 1 << 20

    let path: String
    let bytes: [UInt8]

    init(path: String) throws(TLSConfigurationError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            throw TLSConfigurationError(.unreadableFile, path: path, detail: "cannot open: \(Self.errnoText())", openSSLErrors: [])
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TLSConfigurationError(.unreadableFile, path: path, detail: "cannot read: \(Self.errnoText())", openSSLErrors: [])
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > Self.maximumSize {
                throw TLSConfigurationError(.unreadableFile, path: path, detail: "larger than \(Self.maximumSize) bytes", openSSLErrors: [])
            }
        }
        self.bytes = bytes
    }

    /// Runs `body` with a read-only memory BIO over the file's bytes; the BIO is freed after.
    func withMemoryBIO<T>(_ body: (OpaquePointer) throws(TLSConfigurationError) -> T) throws(TLSConfigurationError) -> T {
        let result: Result<T, TLSConfigurationError> = bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                return .failure(TLSConfigurationError(.unreadableFile, path: path, detail: "cannot create a memory BIO"))
            }
            defer { BIO_free(bio) }
            do throws(TLSConfigurationError) {
                return .success(try body(bio))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
