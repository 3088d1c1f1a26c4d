//! Grading where no scenario gets a network of its own (a platform's container:
//! `HARNESS_NO_NAMESPACES=1` stands in for it): what programs hard-code is moved by the
//! interposed library, so they pass as they do with namespaces, several at once, and
//! nothing waits for TIME_WAIT (ten submissions at once: `batch.rs`).

use predicates::prelude::*;

use crate::common::{self, harness};

#[test]
fn a_client_hard_coding_a_lab_machines_address_and_a_made_up_name_passes_and_is_told_what_moved() {
    // Their servers are hard-coded-port's, named as `../hard-coded-port/...`.
    for (fixture, task) in [
        ("upper-udp-hard-coded-address", "upper-udp"),
        ("upper-tcp-hard-coded-name", "upper-tcp"),
    ] {
        harness()
            .env("HARNESS_NO_NAMESPACES", "1")
            .arg("--target")
            .arg(format!("fixtures/submissions/{fixture}"))
            .args(["--companions", "fixtures/submissions/hard-coded-port"])
            .args(["--task", task, "--seed", "1", "--verbose"])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "what it hard-codes is moved by the interposed library (port 12000 → ",
            ))
            .stdout(
                predicate::str::is_match(
                    "client: the interposed library moved .*(send|connect) 12000>[0-9]+",
                )
                .unwrap(),
            )
            .stdout(predicate::str::contains(" 0 failed"));
    }
}

#[test]
fn steps_that_need_a_network_of_its_own_are_not_run_here_and_cost_nothing() {
    // interfaces/02 adds a veth pair; wait-service/03 counts connection attempts: both need
    // the scenario's own namespace. Not run here, never FAIL or ERROR, and out of the total.
    let report = tempfile::NamedTempFile::new().unwrap();
    harness()
        .env("HARNESS_NO_NAMESPACES", "1")
        .args(["--target", "fixtures/submissions/good", "--seed", "1"])
        .args(["interfaces/02-*", "wait-service/03-*", "--json"])
        .arg(report.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("SKIP    interfaces/02-"))
        .stdout(predicate::str::contains("SKIP    wait-service/03-"))
        .stdout(predicate::str::contains("which this machine refuses"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    let scenarios = json["submissions"][0]["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    for scenario in scenarios {
        assert_eq!(scenario["status"], "skipped", "{scenario}");
        assert_eq!(scenario["skip_kind"], "cannot-run", "{scenario}");
    }
}

/// As in a platform's container (root without `CAP_SYS_ADMIN`: no namespaces, no mounts;
/// the kit where only root may enter, as a `mktemp -d` clone): a program that hard-codes
/// its port passes every scenario, and what truly needs a namespace is not run, never
/// failed.
#[test]
fn in_a_platforms_container_a_correct_submission_loses_nothing() {
    // SAFETY: geteuid only reads the caller's id.
    if unsafe { libc::geteuid() } != 0 {
        // Without root there is no CAP_SYS_ADMIN to take away: the tests above cover the
        // shared loopback with HARNESS_NO_NAMESPACES.
        return;
    }
    let folder = common::kit_for_anyone(&["hard-coded-port"]);
    let kit = folder.path();
    let library = harness::faults::short_calls::library(&common::kit_root())
        .expect("the interposed library builds");
    let json = kit.join("report.json");
    let output = std::process::Command::new("/usr/bin/setpriv")
        .args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"])
        .arg(assert_cmd::cargo::cargo_bin("harness"))
        .arg("--target")
        .arg(kit.join("fixtures/submissions/hard-coded-port"))
        .arg("--target")
        .arg(kit.join("fixtures/submissions/good"))
        .arg("--scenarios")
        .arg(kit.join("scenarios"))
        .args(["--seed", "1", "--task", "upper-tcp", "--task", "ssh-info"])
        .args(["--task", "interfaces", "--task", "wait-service", "--json"])
        .arg(&json)
        .current_dir(kit)
        .env("NO_COLOR", "1")
        .env("HARNESS_COMPANIONS", kit.join("fixtures/submissions/good"))
        .env("HARNESS_SANDBOX_INIT", kit.join("bin/sandbox-init"))
        .env("HARNESS_SHORT_CALLS_LIB", &library)
        .env_remove("HARNESS_NO_NAMESPACES")
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{console}");
    assert!(
        console.contains("sharing this machine's loopback"),
        "{console}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut not_run = Vec::new();
    for submission in report["submissions"].as_array().unwrap() {
        for scenario in submission["scenarios"].as_array().unwrap() {
            let id = scenario["id"].as_str().unwrap();
            match scenario["status"].as_str().unwrap() {
                "pass" => {}
                "skipped" => {
                    assert_eq!(scenario["skip_kind"], "cannot-run", "{id}");
                    not_run.push(id.to_owned());
                }
                other => panic!("{id} {other}: {scenario:#}"),
            }
        }
    }
    // The SSH remote's commands need a mount and a PID namespace; the interfaces and the
    // connection rate a network namespace of their own.
    for id in [
        "interfaces/02-interfaces-the-harness-adds",
        "wait-service/03-paced-retries",
        "ssh-info/01-password-known-host",
    ] {
        assert!(
            not_run.iter().any(|skipped| skipped == id),
            "{id} not in {not_run:?}"
        );
    }
    assert!(
        not_run.iter().all(|id| !id.starts_with("upper-tcp/")),
        "{not_run:?}"
    );
}
