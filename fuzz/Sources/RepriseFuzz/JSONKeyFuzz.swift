import RepriseCore

/// The JSON canonicalizer and the key builder on arbitrary bodies: never traps; when a body is
/// canonicalized, its canonical form is a fixed point (canonicalizing it again succeeds and
/// gives the same bytes; its facts may differ, as ignored fields are left out) and the key
/// builder agrees with the canonicalizer.
enum JSONKeyFuzz {
    nonisolated(unsafe) static let canonicalizer = JSONCanonicalizer()
    nonisolated(unsafe) static let builder = CacheKeyBuilder()
    static let scope = CacheScope(namespace: "fuzz", route: "chat", variant: "json", method: "POST", target: "/v1/chat/completions")

    static func run(_ bytes: [UInt8]) {
        let facts: RequestFacts
        do {
            facts = try canonicalizer.canonicalize(bytes)
        } catch {
            if case .success = Result(catching: { try builder.key(scope: scope, body: bytes) }) {
                preconditionFailure("the key builder accepted a body the canonicalizer refused")
            }
            return
        }
        let canonical = canonicalizer.output
        do {
            _ = try canonicalizer.canonicalize(canonical)
        } catch {
            preconditionFailure("the canonical form does not canonicalize: \(error)")
        }
        precondition(canonicalizer.output == canonical, "canonicalization is not idempotent")
        do {
            let result = try builder.key(scope: scope, body: bytes)
            precondition(result.facts == facts, "the key builder read other facts")
            precondition(builder.lastCanonicalBody == canonical, "the key builder hashed another canonical body")
        } catch {
            preconditionFailure("the key builder refused a body the canonicalizer accepted: \(error)")
        }
    }
}
