//! A stable hash of names, for seeds derived from them (a stream's slice plan, a capture's
//! sequence numbers): the same on every machine and every Rust release, so a seed replays.

/// FNV-1a: a tiny stable hash, so a stream's seed does not change between Rust releases.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
