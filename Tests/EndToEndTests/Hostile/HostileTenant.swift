import Foundation

/// A client whose answer is seeded in the cache before hostile requests arrive: its credential
/// header and a marker the mock writes into its answer (`X-Mock-Marker`). A response carrying
/// the marker went to someone who is not this tenant only if the cache crossed tenants.
struct HostileTenant: Sendable, Equatable {
    let name: String
    let credentialName: String
    let credentialValue: String
    let marker: String

    init(name: String, credentialName: String, credentialValue: String) {
        self.name = name
        self.credentialName = credentialName
        self.credentialValue = credentialValue
        self.marker = "TENANT-\(name.uppercased())-MARKER-\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    }

    var headerLine: String { "\(credentialName): \(credentialValue)" }

    /// Tenant A authenticates the usual way; tenant B with `x-api-key`, which today's main
    /// files under the shared `anonymous` namespace.
    static let a = HostileTenant(name: "a", credentialName: "Authorization", credentialValue: "Bearer sk-hostile-tenant-a")
    static let b = HostileTenant(name: "b", credentialName: "x-api-key", credentialValue: "sk-hostile-tenant-b")
    static let seeded = [a, b]
}

/// Whose credential a hostile request carries, which decides the markers it may see.
enum HostileCredential: Sendable {
    /// No credential at all (the request may only ever get an upstream answer).
    case none
    /// Tenant A's own credential: A's marker is its own answer.
    case tenantA
    /// A credential of a tenant nobody seeded.
    case other(String)

    /// The header line the request builder adds, if any.
    var headerLine: String? {
        switch self {
        case .none: nil
        case .tenantA: HostileTenant.a.headerLine
        case .other(let line): line
        }
    }

    /// Markers this request must never receive.
    var foreignMarkers: [HostileTenant] {
        switch self {
        case .none, .other: HostileTenant.seeded
        case .tenantA: HostileTenant.seeded.filter { $0 != HostileTenant.a }
        }
    }
}
