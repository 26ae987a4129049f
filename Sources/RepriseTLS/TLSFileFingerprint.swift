#if canImport(Glibc)
import RepriseCrypto
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL

/// What identifies the content of the watched files. Kubernetes rotates a mounted Secret by
/// swapping a `..data` symlink to a new directory, so the path's own mtime may not change: we
/// compare the resolved target and a SHA-256 of the bytes. A file that cannot be read has a
/// fingerprint too (`unreadable`), so a file that comes back is noticed.
struct TLSFileFingerprint: Equatable, Sendable {
    struct File: Equatable, Sendable {
        var path: String
        var resolvedPath: String?
        var sha256: [UInt8]?
    }

    var files: [File]

    init(paths: [String]) {
        files = paths.map { path in
            let resolved = realpath(path, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            }
            let digest = (try? PEMFile(path: path)).map { Self.sha256($0.bytes) }
            return File(path: path, resolvedPath: resolved, sha256: digest)
        }
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { raw in
            EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        }
        OpenSSLErrorStack.clear()
        return ok == 1 ? Array(digest.prefix(Int(length))) : []
    }
}
