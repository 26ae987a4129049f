import Foundation
import Testing
@testable import RepriseCore

@Suite("Retry-After and HTTP-date")
struct RetryAfterTests {
    /// RFC 9110's example instant, 1994-11-06 08:49:37 GMT.
    static let example: Int64 = 784_111_777
    static let now2025: Int64 = 1_750_000_000  // 2025-06-15

    @Test func allThreeDateFormsOfTheRFCExampleParseToTheSameInstant() {
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                     "  Sun, 06 Nov 1994 08:49:37 GMT\t"] {
            #expect(HTTPDate.unixSeconds(parsing: text, nowUnixSeconds: Self.now2025) == Self.example, "\(text)")
        }
    }

    @Test func malformedDatesAreRejected() {
        for text in ["", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                     "Sun, 32 Oct 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                     "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x", "Sun 06 Nov 1994 08:49:37 GMT",
                     "Wed, 29 Feb 2023 00:00:00 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 94",
                     "Su, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"] {
            #expect(HTTPDate.unixSeconds(parsing: text, nowUnixSeconds: Self.now2025) == nil, "\(text)")
        }
        #expect(HTTPDate.unixSeconds(parsing: "Thu, 29 Feb 2024 00:00:00 GMT", nowUnixSeconds: Self.now2025) == 1_709_164_800)
        #expect(HTTPDate.unixSeconds(parsing: "Thu, 01 Jan 1970 00:00:00 GMT", nowUnixSeconds: Self.now2025) == 0)
    }

    @Test func rfc850TwoDigitYearsUseTheFiftyYearRule() {
        // In 2025: "75" is 2075 (50 years ahead, allowed), "76" is 1976 (51 ahead is too far).
        #expect(HTTPDate.unixSeconds(parsing: "Sunday, 01-Jan-75 00:00:00 GMT", nowUnixSeconds: Self.now2025) == 3_313_526_400)
        #expect(HTTPDate.unixSeconds(parsing: "Thursday, 01-Jan-76 00:00:00 GMT", nowUnixSeconds: Self.now2025) == 189_302_400)
        #expect(HTTPDate.unixSeconds(parsing: "Monday, 01-Jan-30 00:00:00 GMT", nowUnixSeconds: Self.now2025) == 1_893_456_000)
    }

    /// IMF-fixdate agrees with Foundation's formatter over many instants (1970 to 2200).
    @Test func imfFixdateAgreesWithFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let instant = Int64.random(in: 0...7_258_118_400, using: &generator)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant)))
            #expect(HTTPDate.unixSeconds(parsing: text, nowUnixSeconds: Self.now2025) == instant, "\(text)")
        }
    }

    @Test func delaySecondsForm() {
        #expect(RetryAfter.delayNanoseconds(parsing: "0", nowUnixMilliseconds: 0) == 0)
        #expect(RetryAfter.delayNanoseconds(parsing: "120", nowUnixMilliseconds: 0) == seconds(120))
        #expect(RetryAfter.delayNanoseconds(parsing: " 7 ", nowUnixMilliseconds: 0) == seconds(7))
        #expect(RetryAfter.delayNanoseconds(parsing: "18446744073709551616", nowUnixMilliseconds: 0) == .max)
        for text in ["", " ", "-1", "1.5", "1e3", "+5", "1 2", "five"] {
            #expect(RetryAfter.delayNanoseconds(parsing: text, nowUnixMilliseconds: 0) == nil, "\(text)")
        }
    }

    @Test func delayDateFormIsRelativeToTheWallClock() {
        let nowMs = (Self.example - 10) * 1000 + 250
        #expect(RetryAfter.delayNanoseconds(parsing: "Sun, 06 Nov 1994 08:49:37 GMT", nowUnixMilliseconds: nowMs) == milliseconds(9750))
        #expect(RetryAfter.delayNanoseconds(parsing: "Sun, 06 Nov 1994 08:49:37 GMT", nowUnixMilliseconds: Self.example * 1000 + 5) == 0)
    }

    @Test func headerValueRoundsUpToWholeSecondsAndIsNeverZero() {
        #expect(RetryAfter.headerValue(nanoseconds: 0) == "1")
        #expect(RetryAfter.headerValue(nanoseconds: 1) == "1")
        #expect(RetryAfter.headerValue(nanoseconds: seconds(3)) == "3")
        #expect(RetryAfter.headerValue(nanoseconds: seconds(3) + 1) == "4")
        #expect(RetryAfter.headerValue(nanoseconds: .max) == "18446744074")
    }
}
