import Foundation
import Testing
@testable import RepriseCore

/// `server.max_connections`: its default, the value read from the file, the shipped file's
/// value, and the error naming the key for an impossible cap.
@Suite struct MaxConnectionsConfigTests {
    @Test func theCapDefaultsToFourThousandNinetySix() throws {
        #expect(try ConfigLoader.parse(yaml: "").server.maxConnections == 4096)
    }

    @Test func theCapIsReadFromTheServerSection() throws {
        #expect(try ConfigLoader.parse(yaml: "server:\n  max_connections: 3\n").server.maxConnections == 3)
    }

    @Test func theShippedConfigFileDocumentsTheDefault() throws {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/reprise.yaml").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("\n  max_connections: 4096\n"))
        #expect(try ConfigLoader.load(file: file).server.maxConnections == RepriseConfig().server.maxConnections)
    }

    @Test(arguments: ["0", "-5"])
    func aCapBelowOneIsRefusedNamingTheKey(value: String) {
        do {
            _ = try ConfigLoader.parse(yaml: "server:\n  max_connections: \(value)\n")
            Issue.record("max_connections \(value) was accepted")
        } catch let error as ConfigFileError {
            #expect(error.problems.map(\.keyPath) == ["server.max_connections"])
        } catch {
            Issue.record("unexpected error type: \(error)")
        }
    }
}
