/// The running build, for `--version` and the `reprise_build_info` metric.
public enum RepriseBuild {
    public static let version = "0.1.0"
}
