/// Bounds on one request head, counted as NIO's `NIOHTTPDecoderLimitConfiguration` counts them:
/// the target, each header name and each value on its own (`maxFieldBytes`), all of them
/// together (`maxHeadBytes`, trailers included) and the number of header lines.
public struct RequestHeadLimits: Hashable, Sendable {
    public var maxFieldBytes: Int
    public var maxHeadBytes: Int
    public var maxFieldCount: Int

    /// NIO's defaults: 80 KiB per field and in all, 65,534 fields.
    public init(maxFieldBytes: Int = 80 * 1024, maxHeadBytes: Int = 80 * 1024, maxFieldCount: Int = Int(UInt16.max) - 1) {
        self.maxFieldBytes = maxFieldBytes
        self.maxHeadBytes = maxHeadBytes
        self.maxFieldCount = maxFieldCount
    }
}
