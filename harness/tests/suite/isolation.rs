//! Every scenario has a network of its own, also when the harness is not run as root.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn an_ordinary_user_still_gets_a_network_namespace_per_scenario() {
    // Run the harness as `nobody` (possible from root only): it enters a user namespace
    // first, where it may make a network namespace for each scenario.
    // SAFETY: geteuid only reads the caller's id.
    let root = unsafe { libc::geteuid() } == 0;
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !root || !setpriv.exists() || std::env::var_os("HARNESS_NO_NAMESPACES").is_some() {
        eprintln!("not root, or no setpriv: cannot switch to another user here");
        return;
    }
    let harness = assert_cmd::cargo::cargo_bin("harness");
    if !others_can_reach(&harness) || !others_can_reach(&common::kit_root().join("scenarios")) {
        eprintln!("the kit or its build is in a folder other users cannot enter: not tested");
        return;
    }
    // A copy of the fixture that `nobody` can read, wherever the kit lives.
    let folder = tempfile::tempdir().unwrap();
    let copy = folder.path().join("hard-coded-port");
    std::fs::create_dir(&copy).unwrap();
    let fixture = common::kit_root().join("fixtures/submissions/hard-coded-port");
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    for path in [folder.path(), copy.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(harness)
        .arg("--target")
        .arg(&copy)
        .args(["--seed", "1", "upper-tcp/0[12]-*", "upper-tcp/11-*"])
        .current_dir(common::kit_root())
        .env("HOME", folder.path())
        .env("NO_COLOR", "1")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "each scenario in its own network namespace",
        ))
        .stdout(predicate::str::contains("3 passed, 0 failed"));
}

/// Whether every folder above `path` lets other users through, and `path` is readable.
fn others_can_reach(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let readable = std::fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o004 != 0);
    readable
        && path.ancestors().skip(1).all(|folder| {
            std::fs::metadata(folder).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
        })
}
