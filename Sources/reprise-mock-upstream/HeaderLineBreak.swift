/// How `X-Mock-Header-CRLF` breaks a response header value.
enum HeaderLineBreak: String {
    /// `x-mock-folded: first` CRLF ` second`: an obs-fold (RFC 9112 §5.2), a CRLF inside a value
    /// for parsers that unfold it.
    case fold
    /// `x-mock-cr: first` CR `second`: a bare CR inside a value.
    case cr
    /// `x-mock-lf: first` LF `x-mock-injected: second`: a bare LF, which lenient parsers take
    /// as the end of the line (a second header injected).
    case lf

    /// The header (name, raw value) to add to the answer.
    var header: (String, String) {
        switch self {
        case .fold: ("x-mock-folded", "first\r\n second")
        case .cr: ("x-mock-cr", "first\rsecond")
        case .lf: ("x-mock-lf", "first\nx-mock-injected: second")
        }
    }
}
