import Foundation

/// What tells that a configuration file changed: the file the path resolves to (symlinks
/// followed), its size and modification time. A Kubernetes ConfigMap update swaps the
/// `..data` symlink to a new directory, so the path resolves to another inode even when size
/// and time happen to match.
struct ConfigFileIdentity: Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    /// Nil when the file cannot be read (mid-swap, deleted): no change is acted on then.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }
}
