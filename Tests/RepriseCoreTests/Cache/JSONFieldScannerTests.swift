import Testing
@testable import RepriseCore

/// The scanner's scalar ends and member look-ups (what the tee's store reads from each answer).
@Suite struct JSONFieldScannerTests {
    @Test func aScalarEndsAtEachDelimiterAndRunsToTheEndOtherwise() {
        for delimiter in [",", "}", "]", " ", "\n", "\r", "\t"] {
            let scanner = JSONFieldScanner(bytes: Array("12345\(delimiter)x".utf8))
            #expect(scanner.valueEnd(0) == 5, "ended by \(delimiter.debugDescription)")
        }
        #expect(JSONFieldScanner(bytes: Array("true".utf8)).valueEnd(0) == 4)
        #expect(JSONFieldScanner(bytes: Array("-1.5e3:".utf8)).valueEnd(0) == 7, "':' is not a delimiter")
        #expect(JSONFieldScanner(bytes: Array(",".utf8)).valueEnd(0) == nil, "an empty scalar")
    }

    @Test func membersAreFoundByTheirExactNameAmongNamesOfTheSameLength() throws {
        let scanner = JSONFieldScanner(bytes: Array(#"{"modem":1,"model":"m","mode":null,"models":[2],"usage":{"total_tokens":3}}"#.utf8))
        let members = try #require(scanner.members(ofObjectAt: 0))
        #expect(members.count == 5)
        #expect(scanner.member("model", in: members).flatMap { scanner.simpleString($0) } == "m")
        #expect(scanner.member("mode", in: members).map { scanner.isNull($0) } == true)
        #expect(scanner.member("usage", in: members).flatMap { scanner.members(ofObjectAt: $0.lowerBound) }?.count == 1)
        #expect(scanner.member("mod", in: members) == nil)
        #expect(scanner.member("MODEL", in: members) == nil, "names are compared exactly")
    }

    @Test func integersReadAsIntFromTheirTextWouldBe() {
        let texts = ["42", "-7", "+3", "0", "007", "", "-", "+", "1.5", "1e3", " 1", "12a", "--1",
                     "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809"]
        for text in texts {
            let scanner = JSONFieldScanner(bytes: Array("[\(text)]".utf8))
            #expect(scanner.integer(1 ..< 1 + text.utf8.count) == Int(text), "\(text.debugDescription)")
        }
    }

    @Test func simpleStringsAreTheUnescapedValidUTF8Ones() {
        let scanner = JSONFieldScanner(bytes: Array(#"["gpt-4o","a\"b","",x]"#.utf8) + [0x22, 0xFF, 0x22])
        #expect(scanner.simpleString(1 ..< 9) == "gpt-4o")
        #expect(scanner.simpleString(10 ..< 16) == nil, "an escape")
        #expect(scanner.simpleString(17 ..< 19) == "")
        #expect(scanner.simpleString(20 ..< 21) == nil, "not a string")
        #expect(scanner.simpleString(22 ..< 25) == nil, "not UTF-8")
    }
}
