/// The fuzz targets: each feeds one input to one parser family and checks its properties.
enum FuzzTarget: String, CaseIterable {
    case cacheControl = "cache-control"
    case jsonKey = "json-key"
    case entryCodec = "entry-codec"
    case sse
    case resp
    case httpDate = "http-date"
    case namespace
    case config
    case httpRequest = "http-request"

    /// The target of this process, set once by `main` before libFuzzer's first input.
    nonisolated(unsafe) static var selected: FuzzTarget?

    func run(_ bytes: [UInt8]) {
        switch self {
        case .cacheControl: CacheControlFuzz.run(bytes)
        case .jsonKey: JSONKeyFuzz.run(bytes)
        case .entryCodec: EntryCodecFuzz.run(bytes)
        case .sse: SSEFuzz.run(bytes)
        case .resp: RESPFuzz.run(bytes)
        case .httpDate: HTTPDateFuzz.run(bytes)
        case .namespace: NamespaceFuzz.run(bytes)
        case .config: ConfigFuzz.run(bytes)
        case .httpRequest: HTTPRequestFuzz.run(bytes)
        }
    }
}
