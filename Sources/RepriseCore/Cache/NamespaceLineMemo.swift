/// The namespace of the last request, remembered by the exact header lines it was made from:
/// a client sends the same credential request after request, and reading it in place spares
/// the `String`s a namespace is computed from (a credential is longer than a small string, so
/// each is an allocation) along with the hashing.
///
/// A namespace is a pure function of its mode and of the lines that mode reads (name and value
/// bytes, in order): the memo answers only for the same mode and byte-identical lines, framed
/// with their lengths so no two different sets of lines frame alike. The lines are compared in
/// constant time: the remembered ones may be another client's credential. Case differences in
/// names only cost a recomputation.
///
/// Not thread-safe: owned by one `CacheKeyBuilder` (one per event loop). Holds one request's
/// lines (bounded by the request head's size limit).
struct NamespaceLineMemo {
    private var framed: [UInt8] = []
    private var rememberedLines: [UInt8] = []
    private var remembered: (mode: NamespaceMode, namespace: String)?

    /// Frames a request's lines (`forEachLine` gives each line the mode reads) and returns the
    /// remembered namespace when the last request had exactly these lines under `mode`.
    mutating func lookup(
        mode: NamespaceMode,
        lines forEachLine: ((_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) -> Void
    ) -> String? {
        framed.removeAll(keepingCapacity: true)
        forEachLine { name, value in
            Self.appendField(name, to: &framed)
            Self.appendField(value, to: &framed)
        }
        guard let remembered, remembered.mode == mode, framed.count == rememberedLines.count else { return nil }
        let same = framed.withUnsafeBufferPointer { current in
            rememberedLines.withUnsafeBufferPointer { last in ConstantTime.equals(current, last) }
        }
        return same ? remembered.namespace : nil
    }

    /// Remembers `namespace` for the lines the last `lookup` framed.
    mutating func remember(_ namespace: String, mode: NamespaceMode) {
        swap(&framed, &rememberedLines)
        remembered = (mode, namespace)
    }

    private static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, to framed: inout [UInt8]) {
        var length = UInt32(truncatingIfNeeded: bytes.count).littleEndian
        withUnsafeBytes(of: &length) { framed.append(contentsOf: $0) }
        framed.append(contentsOf: bytes)
    }
}
