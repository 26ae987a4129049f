/// Which variant a bucket goes to, given the route's effective weights (basis points).
///
/// The variants after the first take consecutive ranges of buckets from 0 up, in their order;
/// the first (stable) variant takes every bucket above them. Raising a variant's weight from
/// 10% to 20% extends its range, so every user it had stays (users of a variant listed after it
/// shift; a canary that must keep its users is listed second).
public enum VariantAssignment {
    /// 10,000 buckets: weights to 0.01%.
    public static let bucketCount = 10_000

    /// The index of the variant of `bucket`; `weights[i]` in basis points, each 0...bucketCount.
    public static func variant(bucket: Int, weights: [Int]) -> Int {
        var upper = 0
        for index in weights.indices.dropFirst() {
            upper += weights[index]
            if bucket < upper { return index }
        }
        return 0
    }

    /// The weights actually served: each variant after the first keeps what is left of the
    /// buckets (an override may ask for more than that), the first takes the rest.
    public static func effective(_ requested: [Int]) -> [Int] {
        guard !requested.isEmpty else { return [] }
        var result = requested.map { min(max($0, 0), bucketCount) }
        var left = bucketCount
        for index in result.indices.dropFirst() {
            result[index] = min(result[index], left)
            left -= result[index]
        }
        result[0] = left
        return result
    }
}
