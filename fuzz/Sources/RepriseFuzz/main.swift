import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

// The target comes from `REPRISE_FUZZ_TARGET`; every other argument is libFuzzer's.
let name = getenv("REPRISE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
guard let target = FuzzTarget(rawValue: name) else {
    let known = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    print("reprise-fuzz: set REPRISE_FUZZ_TARGET to one of: \(known) (got \"\(name)\")")
    exit(2)
}
FuzzTarget.selected = target

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
// One input per call. A trap (index out of range, overflow, a failed property `precondition`)
// is the finding.
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTarget.selected?.run(bytes)
    return 0
})
