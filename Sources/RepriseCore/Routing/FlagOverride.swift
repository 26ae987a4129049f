/// One stored override of a variant's weight: what the Redis hash field `ROUTE/VARIANT` holds,
/// written `admin:WEIGHT` (an operator's `PUT /admin/flags`) or `guard:0` (a rollback guard that
/// tripped, so the whole fleet turns the variant off).
public struct FlagOverride: Sendable, Equatable {
    public enum Origin: String, Sendable, Equatable {
        case admin
        case guardTrip = "guard"
    }

    public var origin: Origin
    /// Basis points (0...10,000).
    public var basisPoints: Int

    public init(origin: Origin, basisPoints: Int) {
        self.origin = origin
        self.basisPoints = basisPoints
    }

    /// The stored form, `admin:2000`.
    public var encoded: String { "\(origin.rawValue):\(basisPoints)" }

    /// Nil for anything else (a value written by hand, another version): ignored, not applied.
    public init?(encoded text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let origin = Origin(rawValue: String(parts[0])),
              let points = Int(parts[1]), (0 ... VariantAssignment.bucketCount).contains(points) else { return nil }
        self.init(origin: origin, basisPoints: points)
    }

    /// The hash field of a variant.
    public static func field(route: String, variant: String) -> String { "\(route)/\(variant)" }

    /// `ROUTE/VARIANT` split back; nil when it is not one.
    public static func parse(field: String) -> (route: String, variant: String)? {
        let parts = field.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
