/// The `reason` label of `reprise_cache_entries_rejected_total`: why a stored entry was a miss.
enum EntryRejection: String, Hashable, Sendable, CaseIterable {
    /// Its bytes do not decode (truncated, flipped, not an entry).
    case corrupt
    /// It carries another key's digest (a value copied between keys, or a bug).
    case otherKey = "other_key"
    /// With encryption on: plaintext, sealed with an unknown key, or its tag does not verify.
    case unsealable
}
