import Testing
@testable import RepriseCore

@Suite("Variant assignment")
struct VariantAssignmentTests {
    /// The variant index of each of `count` users on `route` under `weights` (basis points).
    func assignments(route: String = "chat", users count: Int = 10_000, weights: [Int]) -> [Int] {
        (0 ..< count).map { user in
            VariantAssignment.variant(bucket: StickyBucket.bucket(route: route, identity: "user-\(user)"), weights: weights)
        }
    }

    func counts(_ assigned: [Int], variants: Int) -> [Int] {
        (0 ..< variants).map { variant in assigned.filter { $0 == variant }.count }
    }

    /// 10,000 users: each variant's share within 4 standard deviations of its weight
    /// (binomial: sqrt(n p (1 - p)); 4 sd is exceeded by chance with probability 6e-5).
    @Test(arguments: [[9000, 1000], [5000, 5000], [7000, 2000, 1000], [9900, 100]])
    func weightsAreHonouredOverTenThousandAssignments(weights: [Int]) {
        let n = 10_000
        let observed = counts(assignments(users: n, weights: weights), variants: weights.count)
        for (index, weight) in weights.enumerated() {
            let p = Double(weight) / 10_000
            let expected = Double(n) * p
            let tolerance = 4 * (Double(n) * p * (1 - p)).squareRoot()
            #expect(abs(Double(observed[index]) - expected) <= tolerance, "variant \(index): \(observed[index]) of \(n), expected \(expected) ± \(tolerance)")
        }
    }

    @Test func usersInTheTenPercentStayInAtTwentyPercent() {
        let atTen = assignments(weights: [9000, 1000])
        let atTwenty = assignments(weights: [8000, 2000])
        let inAtTen = atTen.indices.filter { atTen[$0] == 1 }
        #expect(inAtTen.count > 800)
        #expect(inAtTen.allSatisfy { atTwenty[$0] == 1 }, "a canary user left the canary when its weight grew")
        // And shrinking back returns exactly the same users (no one else's assignment moved).
        #expect(assignments(weights: [9000, 1000]) == atTen)
        let movedIn = atTwenty.indices.filter { atTwenty[$0] == 1 && atTen[$0] == 0 }.count
        #expect(abs(movedIn - 1000) <= 120)
    }

    @Test func zeroAndHundredPercentAreExact() {
        #expect(assignments(weights: [10_000, 0]).allSatisfy { $0 == 0 })
        #expect(assignments(weights: [0, 10_000]).allSatisfy { $0 == 1 })
    }

    /// The bucket must be the same in every process and build (sticky across restarts and
    /// replicas): pinned values, computed once.
    @Test func bucketsAreStableAcrossProcesses() {
        #expect(StickyBucket.bucket(route: "chat", identity: "user-1") == 5187)
        #expect(StickyBucket.bucket(route: "embeddings", identity: "user-1") == 2044)
    }

    /// Being in one route's canary says nothing about another's: about 1% of users are in
    /// both 10% canaries, not 10%.
    @Test func routesAssignIndependently() {
        let chat = assignments(route: "chat", weights: [9000, 1000])
        let embeddings = assignments(route: "embeddings", weights: [9000, 1000])
        let inBoth = chat.indices.filter { chat[$0] == 1 && embeddings[$0] == 1 }.count
        #expect((40 ... 180).contains(inBoth), "\(inBoth) users in both canaries")
    }

    @Test func effectiveWeightsCapOverridesAndGiveTheRestToTheFirst() {
        #expect(VariantAssignment.effective([9000, 1000]) == [9000, 1000])
        #expect(VariantAssignment.effective([9000, 0]) == [10_000, 0])
        #expect(VariantAssignment.effective([5000, 8000, 5000]) == [0, 8000, 2000])
        #expect(VariantAssignment.effective([1, 20_000]) == [0, 10_000])
    }
}
