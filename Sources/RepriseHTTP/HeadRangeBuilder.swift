/// Collects the ranges llhttp's span callbacks report for one request, and counts them against
/// `RequestHeadLimits` the way NIO's decoder does. A span may arrive in pieces (one per read):
/// the pieces are contiguous in the unconsumed bytes, so a range only grows at its end.
struct HeadRangeBuilder {
    enum Part { case method, target, version, name, value }

    enum Refusal: Error { case tooLarge, tooManyFields, emptyName, folded }

    var method: HeadByteRange?
    var target: HeadByteRange?
    var version: HeadByteRange?
    var fields: [HeaderFieldRange] = []
    var trailers: [HeaderFieldRange] = []
    /// After the head: header lines now are trailers.
    var isPastHead = false
    private var name: HeadByteRange?
    private var value: HeadByteRange?
    /// Bytes of the target, name or value being received (NIO's per-field bound).
    private var partBytes = 0
    /// Bytes of the target, every name and every value so far (NIO's total bound).
    private var totalBytes = 0
    private var fieldCount = 0

    /// A new request begins. The field list keeps its storage: once the previous request's
    /// head is let go (a hit is answered before the next request is read) it is no longer
    /// shared, and filling it again allocates nothing.
    mutating func reset() {
        var fields = [HeaderFieldRange]()
        swap(&fields, &self.fields)
        fields.removeAll(keepingCapacity: true)
        if fields.capacity < 16 { fields.reserveCapacity(16) }
        self = HeadRangeBuilder()
        self.fields = fields
    }

    mutating func add(_ part: Part, start: Int, count: Int, limits: RequestHeadLimits) throws(Refusal) {
        switch part {
        case .method: try Self.extend(&method, start: start, count: count)
        case .version: try Self.extend(&version, start: start, count: count)
        case .target:
            try tally(count, limits: limits)
            try Self.extend(&target, start: start, count: count)
        case .name:
            if name == nil {
                fieldCount += 1
                if fieldCount > limits.maxFieldCount { throw .tooManyFields }
            }
            try tally(count, limits: limits)
            try Self.extend(&name, start: start, count: count)
        case .value:
            try tally(count, limits: limits)
            try Self.extend(&value, start: start, count: count)
        }
    }

    /// The target, a name or a value is complete.
    mutating func partEnded() {
        partBytes = 0
    }

    mutating func nameEnded() throws(Refusal) {
        partBytes = 0
        guard let name, name.count > 0 else { throw .emptyName }
    }

    mutating func valueEnded() {
        partBytes = 0
        guard let name else { return }
        let field = HeaderFieldRange(name: name, value: value ?? HeadByteRange(start: name.end, count: 0))
        if isPastHead { trailers.append(field) } else { fields.append(field) }
        self.name = nil
        self.value = nil
    }

    private mutating func tally(_ count: Int, limits: RequestHeadLimits) throws(Refusal) {
        partBytes += count
        totalBytes += count
        if partBytes > limits.maxFieldBytes || totalBytes > limits.maxHeadBytes { throw .tooLarge }
    }

    /// A range continues where it ended (the next read); a piece after a gap is a value llhttp
    /// 8.1 continued past a line break (obs-fold), which llhttp 9 and RFC 9112 refuse.
    private static func extend(_ range: inout HeadByteRange?, start: Int, count: Int) throws(Refusal) {
        if let existing = range {
            guard start == existing.end else { throw .folded }
            range = HeadByteRange(start: existing.start, count: start + count - existing.start)
        } else {
            range = HeadByteRange(start: start, count: count)
        }
    }
}
