import RepriseCore

/// The `GET /admin/flags` answer: per route, per variant, what is served and why.
enum FlagStateDocument {
    static func json(board: FlagBoard, guards: [[RollbackGuardStateMachine.State]], fleet: Bool) -> String {
        let routes = board.routes.enumerated().map { routeIndex, route in
            let variants = route.variants.enumerated().map { variantIndex, flag in
                var members = [
                    "\"name\":\(JSONString.quote(flag.name))",
                    "\"weight\":\(percent(route.effective[variantIndex]))",
                    "\"configured_weight\":\(percent(flag.configured))",
                    "\"override\":\(flag.override.map { "{\"origin\":\"\($0.origin.rawValue)\",\"weight\":\(percent($0.basisPoints))}" } ?? "null")",
                    "\"source\":\"\(flag.source.rawValue)\"",
                ]
                let state = guards.indices.contains(routeIndex) && guards[routeIndex].indices.contains(variantIndex)
                    ? guards[routeIndex][variantIndex] : .watching
                switch state {
                case .watching:
                    members.append("\"guard\":\"watching\"")
                case .tripped(let evidence):
                    members.append("\"guard\":\"tripped\"")
                    members.append("\"guard_evidence\":\(JSONString.quote(evidence.description))")
                }
                return "{" + members.joined(separator: ",") + "}"
            }
            return "{\"route\":\(JSONString.quote(route.name)),\"variants\":[\(variants.joined(separator: ","))]}"
        }
        return "{\"fleet\":\(fleet),\"routes\":[\(routes.joined(separator: ","))]}"
    }

    /// Basis points as a JSON number of percent (`2000` → `20`, `1` → `0.01`).
    static func percent(_ basisPoints: Int) -> String {
        basisPoints % 100 == 0 ? String(basisPoints / 100) : String(Double(basisPoints) / 100)
    }
}
