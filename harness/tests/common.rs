//! Shared by the integration tests: where the kit is, and the reference binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use harness::scenario::{Suite, load_suite};

/// The seed every fixture's expectations were recorded with.
pub const SEED: u64 = 1;

/// The kit's root folder.
pub fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ is inside the kit")
        .to_owned()
}

/// Every scenario of the kit.
pub fn suite() -> Suite {
    load_suite(&kit_root().join("scenarios")).expect("the kit's scenarios load")
}

/// The reference binaries: `cargo test --workspace` builds them beside the test binaries;
/// otherwise the harness builds them.
pub fn reference_bin_dir() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    if profile_dir.join("message-server").is_file() {
        return profile_dir.to_owned();
    }
    harness::cli::reference_bin_dir(&kit_root()).expect("the reference builds")
}
