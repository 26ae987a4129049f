/// Parses an HTTP-date (RFC 9110 §5.6.7) into Unix seconds.
///
/// Accepts the preferred IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and both obsolete forms
/// recipients must accept: RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). Hand-written over bytes: no `DateFormatter` (locale- and
/// thread-sensitive, slow to build). The day name is checked for shape, not for agreement with the
/// date (RFC 9110 lets recipients ignore it).
public enum HTTPDate {
    /// The Unix time of `text`, or nil when it is not an HTTP-date.
    ///
    /// - Parameter nowUnixSeconds: resolves RFC 850's two-digit year: a year more than 50 years in
    ///   the future is taken as the most recent past year with the same last two digits.
    public static func unixSeconds(parsing text: some StringProtocol, nowUnixSeconds: Int64) -> Int64? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes.removeLast() }
        let leading = bytes.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.count
        var scanner = Scanner(bytes: bytes, position: leading)
        guard let dayName = scanner.letters(), dayName.count >= 3 else { return nil }
        if scanner.skip(","), scanner.skip(" ") {
            if dayName.count == 3 { return imfFixdate(&scanner) }
            return rfc850(&scanner, nowUnixSeconds: nowUnixSeconds)
        }
        guard dayName.count == 3, scanner.skip(" ") else { return nil }
        return asctime(&scanner)
    }

    /// `DD SP Mon SP YYYY SP hh:mm:ss SP GMT`
    private static func imfFixdate(_ scanner: inout Scanner) -> Int64? {
        guard let day = scanner.digits(exactly: 2), scanner.skip(" "),
              let month = scanner.month(), scanner.skip(" "),
              let year = scanner.digits(exactly: 4), scanner.skip(" "),
              let time = scanner.timeOfDay(), scanner.skip(" GMT"), scanner.atEnd
        else { return nil }
        return unixSeconds(year: year, month: month, day: day, time: time)
    }

    /// `DD-Mon-YY SP hh:mm:ss SP GMT`
    private static func rfc850(_ scanner: inout Scanner, nowUnixSeconds: Int64) -> Int64? {
        guard let day = scanner.digits(exactly: 2), scanner.skip("-"),
              let month = scanner.month(), scanner.skip("-"),
              let shortYear = scanner.digits(exactly: 2), scanner.skip(" "),
              let time = scanner.timeOfDay(), scanner.skip(" GMT"), scanner.atEnd
        else { return nil }
        let currentYear = civilYear(unixSeconds: nowUnixSeconds)
        var year = currentYear - currentYear % 100 + shortYear
        if year > currentYear + 50 { year -= 100 }
        return unixSeconds(year: year, month: month, day: day, time: time)
    }

    /// `Mon SP (DD | SP D) SP hh:mm:ss SP YYYY`
    private static func asctime(_ scanner: inout Scanner) -> Int64? {
        guard let month = scanner.month(), scanner.skip(" ") else { return nil }
        _ = scanner.skip(" ")  // a one-digit day is padded with a space
        guard let day = scanner.digits(minimum: 1, maximum: 2), scanner.skip(" "),
              let time = scanner.timeOfDay(), scanner.skip(" "),
              let year = scanner.digits(exactly: 4), scanner.atEnd
        else { return nil }
        return unixSeconds(year: year, month: month, day: day, time: time)
    }

    private static func unixSeconds(year: Int, month: Int, day: Int, time: (hour: Int, minute: Int, second: Int)) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              time.hour < 24, time.minute < 60, time.second <= 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + Int64(time.hour * 3600 + time.minute * 60 + time.second)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The Gregorian year containing `unixSeconds` (H. Hinnant's `civil_from_days`, year only).
    private static func civilYear(unixSeconds: Int64) -> Int {
        let days = (unixSeconds >= 0 ? unixSeconds : unixSeconds - 86_399) / 86_400 + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
    }

    private static let monthNames: [[UInt8]] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ].map { Array($0.utf8) }

    private struct Scanner {
        let bytes: [UInt8]
        var position: Int

        var atEnd: Bool { position == bytes.count }

        mutating func skip(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { return false }
            let matches = literal.withUTF8Buffer { expected in
                expected.indices.allSatisfy { bytes[position + $0] == expected[$0] }
            }
            if matches { position += count }
            return matches
        }

        mutating func letters() -> ArraySlice<UInt8>? {
            let start = position
            while position < bytes.count, (bytes[position] | 0x20) >= UInt8(ascii: "a"), (bytes[position] | 0x20) <= UInt8(ascii: "z") {
                position += 1
            }
            return position > start ? bytes[start..<position] : nil
        }

        mutating func digits(exactly count: Int) -> Int? {
            digits(minimum: count, maximum: count)
        }

        mutating func digits(minimum: Int, maximum: Int) -> Int? {
            var value = 0
            var read = 0
            while read < maximum, position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                position += 1
                read += 1
            }
            return read >= minimum ? value : nil
        }

        /// A three-letter month name, 1-based; matched case-sensitively as RFC 9110 requires.
        mutating func month() -> Int? {
            guard position + 3 <= bytes.count else { return nil }
            let candidate = bytes[position..<position + 3]
            guard let index = HTTPDate.monthNames.firstIndex(where: { $0.elementsEqual(candidate) }) else { return nil }
            position += 3
            return index + 1
        }

        mutating func timeOfDay() -> (hour: Int, minute: Int, second: Int)? {
            guard let hour = digits(exactly: 2), skip(":"),
                  let minute = digits(exactly: 2), skip(":"),
                  let second = digits(exactly: 2)
            else { return nil }
            return (hour, minute, second)
        }
    }
}
