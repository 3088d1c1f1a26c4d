//! The property tests' settings every pack's reader shares.

/// `cases` cases from a fixed seed, and no file of past failures: the same cases on every
/// run, so a property test passes or fails alike everywhere.
pub(crate) fn fixed_cases(cases: u32, seed: u64) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    }
}
