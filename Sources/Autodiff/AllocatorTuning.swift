/// glibc's `mallopt` (malloc.h, which the Glibc module does not import).
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// The allocator as the engine needs it: glibc serves blocks above its mmap threshold (at most
/// 32 MiB by its own adjustment) with fresh mappings, so a language model's logits (51 MB for
/// 256 tokens over 50,254) would fault in every page on every pass. Raising the threshold and the
/// trim threshold to 1 GiB lets a freed block be reused, as a runtime's arena reuses its buffers.
public enum AllocatorTuning {
    /// glibc's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD.
    private static let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)

    /// Applies the thresholds (once per process, before the first large allocation).
    public static func reuseLargeBlocks() {
        #if os(Linux)
        _ = mallopt(mmapThreshold, 1 << 30)
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
    }
}
