internal import CLLHTTP
import NIOCore
import NIOHTTP1

extension HTTPRequestHead {
    /// NIO's head for a parsed one: here the `String`s are made, for code that wants them.
    public init(_ parsed: ParsedRequestHead) {
        self.init(
            version: HTTPVersion(major: parsed.versionMajor, minor: parsed.versionMinor),
            method: HTTPMethod(llhttpCode: parsed.methodCode),
            uri: parsed.string(parsed.target),
            headers: HTTPHeaders(fields: parsed.fields, in: parsed.bytes)
        )
    }
}

extension ParsedRequestHead {
    /// The method as NIO names it.
    public var httpMethod: HTTPMethod { HTTPMethod(llhttpCode: methodCode) }

    public var version: HTTPVersion { HTTPVersion(major: versionMajor, minor: versionMinor) }
}

extension HTTPHeaders {
    init(fields: [HeaderFieldRange], in bytes: ByteBuffer) {
        self.init(fields.map { (bytes.headString($0.name), bytes.headString($0.value)) })
    }
}

extension HTTPMethod {
    /// The method NIO's decoder gives for llhttp's method number: its name, except that NIO
    /// spells llhttp's `M-SEARCH` `MSEARCH`.
    init(llhttpCode code: UInt8) {
        // The methods the proxy serves without a name lookup and a `String` (llhttp's numbers).
        switch code {
        case 0: self = .DELETE
        case 1: self = .GET
        case 2: self = .HEAD
        case 3: self = .POST
        case 4: self = .PUT
        case 6: self = .OPTIONS
        case 28: self = .PATCH
        default:
            let name = String(cString: reprise_llhttp_method_name(code))
            self = name == "M-SEARCH" ? .MSEARCH : HTTPMethod(rawValue: name)
        }
    }
}
