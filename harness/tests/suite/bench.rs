//! `harness bench`: the table of message transfers, on the quickest settings (the numbers
//! themselves are the bench's business, not the tests').

use crate::common::{self, harness};

use predicates::prelude::*;

#[test]
fn a_quick_bench_times_the_submission_beside_the_reference() {
    let good = common::kit_root().join("fixtures/submissions/good");
    let output = harness()
        .args(["bench", "--quick", "--rounds", "1", "--target"])
        .arg(&good)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(output).unwrap();
    for size in ["20 KB", "1 MB"] {
        for subject in [good.display().to_string(), "reference".into()] {
            assert!(
                table
                    .lines()
                    .any(|line| line.starts_with(size) && line.contains(&subject)),
                "no row for {subject} at {size}:\n{table}"
            );
        }
    }
    assert!(table.contains("MB/s"), "{table}");
    assert!(
        table.contains("harness overhead per scenario (message/13-client-without-server"),
        "{table}"
    );
    assert!(!table.contains("failed"), "{table}");
    assert_start_rows(&table);
}

/// The start table's three rows every machine has, each with its ratio to the plain start,
/// and the overhead's ratio to it.
fn assert_start_rows(table: &str) {
    for row in [
        "fork and exec ",
        "fork and exec, the harness forked",
        "the sandbox, every layer on",
    ] {
        let line = table
            .lines()
            .find(|line| line.starts_with(row))
            .unwrap_or_else(|| panic!("no start row {row}:\n{table}"));
        assert!(line.contains('×') && !line.contains("not run"), "{line}");
    }
    assert!(table.contains("× a plain start"), "{table}");
}

#[test]
fn the_overhead_alone_times_starts_and_scenarios_without_transfers() {
    let output = harness()
        .args(["bench", "--overhead", "--quick", "--rounds", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(output).unwrap();
    assert!(!table.contains("MB/s"), "no transfer runs:\n{table}");
    assert_start_rows(&table);
}

#[test]
fn a_submission_without_message_programs_is_a_usage_error() {
    let empty = tempfile::tempdir().unwrap();
    harness()
        .args(["bench", "--quick", "--target"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no message-server to bench"));
}

#[test]
fn a_server_that_never_listens_fails_its_row() {
    // `true` as the server exits at once: the row says so, and the exit status is 1.
    let folder = tempfile::tempdir().unwrap();
    let manifest = "[message]\nserver = \"true {port}\"\nclient = \"cat {host} {port}\"\n";
    std::fs::write(folder.path().join("submission.toml"), manifest).unwrap();
    let output = harness()
        .args(["bench", "--quick", "--rounds", "1", "--target"])
        .arg(folder.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(output).unwrap();
    assert!(
        table.contains("failed: the server exited (exit status: 0) before listening"),
        "{table}"
    );
}
