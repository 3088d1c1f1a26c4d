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
    // What `nobody` reads of the kit, in a folder it can read wherever the kit lives (a
    // clone in a folder only root enters).
    let kit = common::kit_for_anyone(&["hard-coded-port"]);
    let mut command = if root {
        Command::from_std(common::harness_as_nobody())
    } else {
        Command::cargo_bin("harness").unwrap()
    };
    command
        .arg("--target")
        .arg(kit.path().join("fixtures/submissions/hard-coded-port"))
        .arg("--scenarios")
        .arg(kit.path().join("scenarios"))
        .args(["--seed", "1", "upper-tcp/0[12]-*", "upper-tcp/11-*"])
        .current_dir(kit.path())
        .env("HOME", kit.path())
        .env("HARNESS_SANDBOX_INIT", kit.path().join("bin/sandbox-init"))
        .env("NO_COLOR", "1")
        .env_remove("HARNESS_NO_NAMESPACES")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "each scenario in its own network namespace",
        ))
        .stdout(predicate::str::contains("3 passed, 0 failed"));
}
