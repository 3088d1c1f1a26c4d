//! Every scenario has a network of its own, also when the harness is not run as root.

use crate::common;

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn an_ordinary_user_still_gets_a_network_namespace_per_scenario() {
    // From root, the harness runs as `nobody` (setpriv): it enters a user namespace first,
    // where it may make a network namespace for each scenario. Run by an ordinary user,
    // the suite proves the same by running the harness as itself.
    // SAFETY: geteuid only reads the caller's id.
    let root = unsafe { libc::geteuid() } == 0;
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
    let harness = assert_cmd::cargo::cargo_bin("harness");
    let mut command = if root {
        let setpriv = std::path::Path::new("/usr/bin/setpriv");
        assert!(
            setpriv.exists(),
            "this test runs the harness as `nobody` with setpriv: install util-linux"
        );
        let mut command = Command::new(setpriv);
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        // The kit and its build may sit in a folder only root enters (a clone under
        // /root): `nobody` may then read and search every folder, and is still an
        // ordinary user to the kernel for namespaces (no CAP_SYS_ADMIN).
        command.args([
            "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search",
            "--",
        ]);
        command.arg(harness);
        command
    } else {
        Command::new(harness)
    };
    command
        .arg("--target")
        .arg(&copy)
        .args(["--seed", "1", "upper-tcp/0[12]-*", "upper-tcp/11-*"])
        .current_dir(common::kit_root())
        .env("HOME", folder.path())
        .env("NO_COLOR", "1")
        .env_remove("HARNESS_NO_NAMESPACES")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "each scenario in its own network namespace",
        ))
        .stdout(predicate::str::contains("3 passed, 0 failed"));
}
