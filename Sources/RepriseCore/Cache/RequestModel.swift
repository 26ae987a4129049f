/// The top-level `model` of a request body that was not canonicalized (it bypasses the cache),
/// for the `model` label of metrics and the access log. Nil for anything that is not a JSON
/// object with a string `model`.
public enum RequestModel {
    public static func read(body: [UInt8]) -> String? {
        let scanner = JSONFieldScanner(bytes: body)
        guard let members = scanner.members(ofObjectAt: 0), let range = scanner.member("model", in: members) else { return nil }
        return scanner.simpleString(range)
    }
}
