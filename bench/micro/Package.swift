// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of Reprise's pure parts (package-benchmark). A separate package so that
// building the root package (and CI) never builds the benchmark dependency.
//
// Run: `cd bench/micro && swift package --disable-sandbox benchmark` (see README.md).
//
// Traits: only `MallocInterposer` (malloc counters). The package's other default trait,
// `RuntimeInterposer` (ARC counters on Linux with Swift 6.3), needs a dependency that is not
// available here, so the default trait set is replaced rather than extended.
let package = Package(
    name: "reprise-micro-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "reprise", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ReprisePure",
            dependencies: [
                .product(name: "RepriseCore", package: "reprise"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ReprisePure",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
