import Foundation

/// Memory of a process as Linux reports it in `/proc/PID/status`.
enum ProcessMemory {
    /// Resident set size (`VmRSS`) in bytes; nil when the process is gone or the field missing.
    static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:\t   33512 kB"
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// How much more memory the binaries under test may use than a plain build: a sanitizer's
    /// redzones, quarantine and shadow pages count in RSS (`scripts/sanitize.sh` sets
    /// `REPRISE_TEST_MEMORY_FACTOR`; a plain run has 1). RSS bounds are multiplied by it.
    static var allowanceFactor: Double {
        ProcessInfo.processInfo.environment["REPRISE_TEST_MEMORY_FACTOR"].flatMap(Double.init).map { max(1, $0) } ?? 1
    }
}
