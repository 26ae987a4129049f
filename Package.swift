// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "reprise",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "reprise", targets: ["reprise"]),
        .executable(name: "reprise-mock-upstream", targets: ["reprise-mock-upstream"]),
        // For bench/micro and fuzz/, separate packages that benchmark and fuzz the pure parts.
        .library(name: "RepriseCore", targets: ["RepriseCore"]),
        // For fuzz/, a separate package that fuzzes the RESP reply parser.
        .library(name: "RepriseRedis", targets: ["RepriseRedis"]),
        // For fuzz/: the request parser (llhttp).
        .library(name: "RepriseHTTP", targets: ["RepriseHTTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // System libraries: wrapped once, in RepriseCrypto/RepriseTLS (OpenSSL) and RepriseRedis (hiredis).
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // llhttp compiled from Debian's node-llhttp sources (/usr/share/llhttp), wrapped once in
        // RepriseHTTP.
        .target(name: "CLLHTTP", path: "Sources/CLLHTTP"),

        .target(
            name: "RepriseCrypto",
            dependencies: ["COpenSSL"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RepriseCore",
            dependencies: ["RepriseCrypto", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RepriseRedis",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RepriseHTTP",
            dependencies: [
                "CLLHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RepriseTLS",
            dependencies: [
                // RepriseCrypto: the one OpenSSL error-queue helper, shared instead of copied.
                "COpenSSL", "RepriseCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RepriseProxy",
            dependencies: [
                "RepriseCore", "RepriseRedis", "RepriseTLS", "RepriseHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "reprise",
            dependencies: [
                "RepriseProxy", "RepriseCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "reprise-mock-upstream",
            dependencies: [
                // RepriseTLS: the server side of the same OpenSSL code, for `--tls-certificate`.
                "RepriseTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // `swift run -c release RedisBench`: RepriseRedis round trips against redis-benchmark.
        .executableTarget(
            name: "RedisBench",
            dependencies: [
                "RepriseRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "bench/redis",
            swiftSettings: swiftSettings
        ),

        // `bench/http-parse/measure.sh`: instructions and mallocs per parse, llhttp against NIO.
        .executableTarget(
            name: "HTTPParseBench",
            dependencies: [
                "RepriseHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/http-parse",
            exclude: ["measure.sh"],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "RepriseHTTPTests",
            dependencies: ["RepriseHTTP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RepriseCryptoTests", dependencies: ["RepriseCrypto"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RepriseCoreTests",
            dependencies: ["RepriseCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RepriseRedisTests",
            dependencies: ["RepriseRedis", "RepriseCore", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RepriseTLSTests",
            dependencies: [
                "RepriseTLS", "COpenSSL",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RepriseProxyTests",
            dependencies: [
                "RepriseProxy", "RepriseCore", "RepriseHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                // The decoder differential test (Hostile/): llhttp's decoder against NIO's.
                "RepriseHTTP",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
