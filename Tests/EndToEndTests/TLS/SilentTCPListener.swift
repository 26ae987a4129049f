import Foundation

/// A listening socket that never accepts nor reads: the kernel completes TCP connects to it, so
/// a TLS client's hello goes out and no answer ever comes (a stuck upstream, a firewall that
/// swallows packets after the SYN/ACK).
final class SilentTCPListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let (descriptor, port) = bindLoopbackSocket()
        guard listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw TLSTestPKI.Failure(command: "listen", output: "errno \(errno)")
        }
        self.descriptor = descriptor
        self.port = port
    }

    deinit { close(descriptor) }
}
