//! Sizes as people read them, in messages about caps: `10 MiB`, `512 KiB`, `1000 bytes`.

/// `10 MiB`, `512 KiB`, `1000 bytes`.
pub fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
