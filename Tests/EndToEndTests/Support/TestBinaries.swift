import Foundation

/// Finds the executables SwiftPM built next to the test bundle (`.build/<config>/`), e.g.
/// `reprise` and `reprise-mock-upstream`. `REPRISE_BIN_DIR` overrides the directory.
enum TestBinaries {
    struct NotFound: Error, CustomStringConvertible {
        let name: String
        let searched: [String]
        var description: String {
            "executable '\(name)' not found (searched: \(searched.joined(separator: ", "))); "
                + "run `swift build` first or set REPRISE_BIN_DIR"
        }
    }

    static var reprise: URL { get throws { try url(named: "reprise") } }
    static var mockUpstream: URL { get throws { try url(named: "reprise-mock-upstream") } }

    static func url(named name: String) throws -> URL {
        let directories = candidateDirectories()
        for directory in directories {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw NotFound(name: name, searched: directories.map(\.path))
    }

    /// Most specific first: the override, the running test binary's directory (on Linux the
    /// `.xctest` is the process itself), any loaded `.xctest` bundle's parent (macOS), then the
    /// package's `.build/debug` found from this source file.
    private static func candidateDirectories() -> [URL] {
        var directories: [URL] = []
        if let override = ProcessInfo.processInfo.environment["REPRISE_BIN_DIR"] {
            directories.append(URL(fileURLWithPath: override))
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if executable.path != "/proc/self/exe" {
            directories.append(executable.deletingLastPathComponent())
        }
        if let argument = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: argument).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent())
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // Support
            .deletingLastPathComponent()  // EndToEndTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        return directories
    }
}
