/// A JSON value model used only by the tests to render one value in many equivalent spellings.
indirect enum JValue: Sendable {
    case object([(String, JValue)])
    case array([JValue])
    case string(String)
    /// `mantissa × 10^exponent`.
    case number(mantissa: Int, exponent: Int)
    case bool(Bool)
    case null
}

/// SplitMix64: deterministic randomness from a PropertyBased-generated seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum JSONTestModel {
    static let stringPool: [Character] = ["a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "€", "😀", "中", "\u{7F}"]
    static let topLevelKeys = ["model", "messages", "temperature", "max_tokens", "tools", "seed", "response_format", "top_p", "n", "prompt", "input"]

    static func randomString(_ rng: inout SplitMix, maxLength: Int = 6) -> String {
        String((0 ..< Int.random(in: 0 ... maxLength, using: &rng)).map { _ in stringPool.randomElement(using: &rng)! })
    }

    static func randomValue(_ rng: inout SplitMix, depth: Int) -> JValue {
        let choice = Int.random(in: 0 ..< (depth >= 4 ? 4 : 6), using: &rng)
        switch choice {
        case 0: return .string(randomString(&rng))
        case 1: return .number(mantissa: Int.random(in: -100_000 ... 100_000, using: &rng), exponent: Int.random(in: -8 ... 8, using: &rng))
        case 2: return Bool.random(using: &rng) ? .bool(Bool.random(using: &rng)) : .null
        case 3: return .number(mantissa: Int.random(in: -3 ... 3, using: &rng), exponent: 0)
        case 4: return .array((0 ..< Int.random(in: 0 ... 4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default: return .object(randomMembers(&rng, depth: depth + 1, names: nil))
        }
    }

    static func randomMembers(_ rng: inout SplitMix, depth: Int, names: [String]?) -> [(String, JValue)] {
        var used = Set<String>()
        var members: [(String, JValue)] = []
        for _ in 0 ..< Int.random(in: 0 ... 5, using: &rng) {
            let name = names?.randomElement(using: &rng) ?? randomString(&rng, maxLength: 4)
            guard used.insert(name).inserted else { continue }
            members.append((name, randomValue(&rng, depth: depth)))
        }
        return members
    }

    static func randomBody(_ rng: inout SplitMix) -> JValue {
        .object(randomMembers(&rng, depth: 1, names: topLevelKeys))
    }

    // MARK: Rendering in a random equivalent spelling

    static func render(_ value: JValue, _ rng: inout SplitMix, extraTopLevel: [(String, JValue)] = []) -> String {
        var out = ""
        write(value, &rng, into: &out, extra: extraTopLevel)
        return out
    }

    static func whitespace(_ rng: inout SplitMix) -> String {
        ["", "", " ", "\n", "\t", "\r\n  "].randomElement(using: &rng)!
    }

    static func write(_ value: JValue, _ rng: inout SplitMix, into out: inout String, extra: [(String, JValue)] = []) {
        out += whitespace(&rng)
        switch value {
        case .object(let members):
            let all = (members + extra).shuffled(using: &rng)
            out += "{"
            for (offset, member) in all.enumerated() {
                if offset > 0 { out += "," }
                out += whitespace(&rng)
                writeString(member.0, &rng, into: &out)
                out += whitespace(&rng) + ":"
                write(member.1, &rng, into: &out)
            }
            out += whitespace(&rng) + "}"
        case .array(let elements):
            out += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { out += "," }
                write(element, &rng, into: &out)
            }
            out += whitespace(&rng) + "]"
        case .string(let string):
            writeString(string, &rng, into: &out)
        case .number(let mantissa, let exponent):
            out += spellNumber(mantissa: mantissa, exponent: exponent, &rng)
        case .bool(let flag):
            out += flag ? "true" : "false"
        case .null:
            out += "null"
        }
        out += whitespace(&rng)
    }

    static func writeString(_ string: String, _ rng: inout SplitMix, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            let escapeAnyway = Int.random(in: 0 ..< 4, using: &rng) == 0
            switch scalar {
            case "\"": out += Bool.random(using: &rng) ? "\\\"" : "\\u0022"
            case "\\": out += Bool.random(using: &rng) ? "\\\\" : "\\u005C"
            case "\n": out += Bool.random(using: &rng) ? "\\n" : "\\u000a"
            case "\t": out += Bool.random(using: &rng) ? "\\t" : "\\u0009"
            case "/": out += escapeAnyway ? "\\/" : "/"
            case _ where scalar.value < 0x20 || escapeAnyway:
                out += unicodeEscape(scalar, upper: Bool.random(using: &rng))
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func unicodeEscape(_ scalar: Unicode.Scalar, upper: Bool) -> String {
        func hex(_ value: UInt32) -> String {
            let digits = String(value, radix: 16, uppercase: upper)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        if scalar.value < 0x10000 { return hex(scalar.value) }
        let offset = scalar.value - 0x10000
        return hex(0xD800 + (offset >> 10)) + hex(0xDC00 + (offset & 0x3FF))
    }

    /// One of many spellings of `mantissa × 10^exponent`.
    static func spellNumber(mantissa: Int, exponent: Int, _ rng: inout SplitMix) -> String {
        if mantissa == 0 {
            return ["0", "-0", "0.0", "0e5", "-0.000E-3", "0E0"].randomElement(using: &rng)!
        }
        let sign = mantissa < 0 ? "-" : ""
        let extraZeros = Int.random(in: 0 ... 3, using: &rng)
        let digits = String(mantissa.magnitude) + String(repeating: "0", count: extraZeros)
        let exp = exponent - extraZeros
        let e = ["e", "E"].randomElement(using: &rng)!
        func expText(_ value: Int) -> String { value >= 0 && Bool.random(using: &rng) ? "+\(value)" : "\(value)" }
        switch Int.random(in: 0 ..< 3, using: &rng) {
        case 0 where exp == 0:
            return sign + digits
        case 1:
            // Decimal point inside the digits, exponent compensates.
            let point = Int.random(in: 1 ... digits.count, using: &rng)
            let integer = String(digits.prefix(point))
            var fraction = String(digits.dropFirst(point))
            if fraction.isEmpty { fraction = "0" }
            // "I.F" is digits × 10^-len(F) ("I.0" when F is empty): compensate in the exponent.
            let shownExp = exp + (digits.count - point)
            return sign + integer + "." + fraction + (shownExp == 0 && Bool.random(using: &rng) ? "" : e + expText(shownExp))
        default:
            // Leading "0." form.
            return sign + "0." + digits + e + expText(exp + digits.count)
        }
    }
}
