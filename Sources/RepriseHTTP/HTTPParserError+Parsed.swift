import NIOHTTP1

extension HTTPParserError {
    /// The error NIO's decoder reports for the same refusal (NIOHTTP1's
    /// `HTTPParserError.httpError(fromCHTTPParserErrno:)` for llhttp's codes).
    public init(_ error: RequestParseError) {
        switch error.kind {
        case .headTooLarge: self = .headerOverflow
        case .unsupportedVersion: self = .invalidVersion
        case .emptyHeaderName, .foldedHeaderLine: self = .invalidHeaderToken
        case .endedInsideRequest: self = .invalidEOFState
        case .llhttp(_, let name): self = Self(llhttpName: name)
        }
    }

    /// By llhttp's error name: the two llhttp versions number a few codes differently.
    private init(llhttpName name: String) {
        switch name {
        case "HPE_INTERNAL": self = .invalidInternalState
        case "HPE_STRICT": self = .strictModeAssertion
        case "HPE_LF_EXPECTED": self = .lfExpected
        case "HPE_UNEXPECTED_CONTENT_LENGTH": self = .unexpectedContentLength
        case "HPE_CLOSED_CONNECTION": self = .closedConnection
        case "HPE_INVALID_METHOD": self = .invalidMethod
        case "HPE_INVALID_URL": self = .invalidURL
        case "HPE_INVALID_CONSTANT": self = .invalidConstant
        case "HPE_INVALID_VERSION": self = .invalidVersion
        case "HPE_INVALID_HEADER_TOKEN", "HPE_UNEXPECTED_SPACE": self = .invalidHeaderToken
        case "HPE_INVALID_CONTENT_LENGTH": self = .invalidContentLength
        case "HPE_INVALID_CHUNK_SIZE": self = .invalidChunkSize
        case "HPE_INVALID_STATUS": self = .invalidStatus
        case "HPE_INVALID_EOF_STATE": self = .invalidEOFState
        case "HPE_PAUSED", "HPE_PAUSED_UPGRADE", "HPE_PAUSED_H2_UPGRADE": self = .paused
        default: self = .unknown
        }
    }
}
