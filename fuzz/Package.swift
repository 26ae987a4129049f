// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for Reprise's parsers (issue 18). A separate package so that building the
// root package (and CI) never builds with the fuzzer instrumentation.
//
// Run: `scripts/fuzz.sh [target...]` (see fuzz/README.md). One binary, `reprise-fuzz`, holds
// every target; `REPRISE_FUZZ_TARGET` picks one. Built with `-Xswiftc -sanitize=fuzzer,address`;
// its `main` calls libFuzzer's driver (`LLVMFuzzerRunDriver`) with the chosen target.
let package = Package(
    name: "reprise-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "reprise", path: ".."),
    ],
    targets: [
        .systemLibrary(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .executableTarget(
            name: "reprise-fuzz",
            dependencies: [
                "CLibFuzzer",
                .product(name: "RepriseCore", package: "reprise"),
                .product(name: "RepriseRedis", package: "reprise"),
                .product(name: "RepriseHTTP", package: "reprise"),
            ],
            path: "Sources/RepriseFuzz",
            swiftSettings: [.swiftLanguageMode(.v6)],
            // gold stops with an internal error (dwarf_reader.cc) on this link; lld links it.
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
        ),
    ]
)
