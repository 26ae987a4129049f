import NIOCore

/// Limits the connection handler enforces, from `server:` in the configuration.
public struct ConnectionLimits: Sendable {
    public var maxBodyBytes: Int
    public var maxHeaderBytes: Int
    public var idleTimeout: TimeAmount
    public var requestTimeout: TimeAmount

    public init(maxBodyBytes: Int, maxHeaderBytes: Int, idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }
}
