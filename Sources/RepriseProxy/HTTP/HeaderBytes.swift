import RepriseCore
/// Header names and values looked at as bytes: compared without lower-cased copies, checked
/// against RFC 9110's grammar before they are written into a message.
enum HeaderBytes {
    /// `a` equals `b` but for the case of ASCII letters.
    static func equalsIgnoringCase<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        ASCIICase.equal(a, b)
    }

    /// `name` begins with `prefix` (lower-case ASCII) but for the case of letters.
    static func hasPrefixIgnoringCase(_ name: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let wanted = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return name.count >= wanted.count && equalsIgnoringCase(UnsafeBufferPointer(rebasing: name.prefix(wanted.count)), wanted)
    }

    /// As above, for a header value held as a String (an upstream answer's head).
    static func hasPrefixIgnoringCase(_ name: String, _ prefix: StaticString) -> Bool {
        var name = name
        return name.withUTF8 { hasPrefixIgnoringCase($0, prefix) }
    }

    /// `value` contains `word` (lower-case ASCII) but for the case of letters.
    static func containsIgnoringCase(_ value: String, _ word: StaticString) -> Bool {
        let wanted = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        let bytes = value.utf8
        var start = bytes.startIndex
        while bytes.distance(from: start, to: bytes.endIndex) >= wanted.count {
            let end = bytes.index(start, offsetBy: wanted.count)
            if equalsIgnoringCase(bytes[start..<end], wanted) { return true }
            start = bytes.index(after: start)
        }
        return false
    }

    /// RFC 9110 `token` (a field name): `!#$%&'*+-.^_`|~`, digits and letters, at least one.
    static func isToken<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A field value that can be written as it is: no control character but HTAB (CR, LF and
    /// NUL above all, which would end the header or the head early: RFC 9110 §5.5), obs-text
    /// allowed. The same rule as NIO's outbound header validation.
    static func isValidValue<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        bytes.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
