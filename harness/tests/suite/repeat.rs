//! `--repeat N`: every scenario N times, each with its own seed; a verdict that changes is
//! FLAKY, with the seeds that passed and failed, in the terminal report, the JSON and a
//! replayed recording. Soaks of many repetitions are run by hand (`harness --repeat 50`); here
//! a small N proves the mechanism.

use crate::common::harness;

use std::path::Path;

use predicates::prelude::*;

#[test]
fn the_reference_gives_the_same_verdict_on_every_repetition() {
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    harness()
        .args([
            "--reference",
            "--seed",
            "40",
            "--repeat",
            "3",
            "--jobs",
            "2",
        ])
        .arg("--json")
        .arg(&json)
        .args(["message/06-*", "upper-udp/01-*"])
        .assert()
        .success()
        .stdout(predicate::str::contains("3/3 passed"))
        .stdout(predicate::str::contains(
            "each scenario ran 3 times (seeds 40 to 42): no verdict changed",
        ));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["repeat"], 3);
    let submission = &report["submissions"][0];
    assert_eq!(submission["counts"]["flaky"], 0);
    for scenario in submission["scenarios"].as_array().unwrap() {
        let repetitions = &scenario["repetitions"];
        assert_eq!(repetitions["count"], 3, "{}", scenario["id"]);
        assert_eq!(repetitions["passed_seeds"], serde_json::json!([40, 41, 42]));
        assert_eq!(repetitions["flaky"], false);
    }
}

/// The interfaces scenarios judge what the lister printed once its stdout has ended, not
/// the moment it exits: before, the last line could still be on its way from the pipe, and
/// eight runs at once failed the reference about one time in a hundred ("no line names
/// `lo`", seen in `--jobs 8` grading; 300 runs failed both scenarios).
#[test]
fn the_interfaces_scenarios_read_the_whole_list_however_many_run_at_once() {
    harness()
        .args([
            "--reference",
            "--seed",
            "15",
            "--repeat",
            "200",
            "--jobs",
            "8",
        ])
        .arg("interfaces/*")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "each scenario ran 200 times (seeds 15 to 214): no verdict changed",
        ));
}

/// A message server that is right on its odd-numbered starts and prints a banner on the
/// even ones: it counts its starts in a file of its working folder (the submission's,
/// `workdir = "."`, which its sandbox lets it write).
const ALTERNATING_SERVER: &str = "\
import socket, sys
with open('starts', 'a+') as f:
    f.seek(0)
    start = len(f.read()) + 1
    f.write('x')
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', int(sys.argv[1])))
s.listen(5)
while True:
    c, _ = s.accept()
    if start % 2 == 0:
        sys.stdout.buffer.write(b'connected\\n')
    while True:
        d = c.recv(4096)
        if not d:
            break
        sys.stdout.buffer.write(d)
        sys.stdout.buffer.flush()
    c.close()
";

fn alternating_submission() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("server.py"), ALTERNATING_SERVER).unwrap();
    std::fs::write(
        folder.path().join("submission.toml"),
        "[message]\nserver = { command = \"python3 server.py {port}\", workdir = \".\" }\n",
    )
    .unwrap();
    folder
}

fn grade_alternating(folder: &Path, extra: &[&std::ffi::OsStr]) -> assert_cmd::assert::Assert {
    // One repetition at a time (`--jobs 1`), so the starts alternate in seed order.
    harness()
        .arg("--target")
        .arg(folder)
        .args(["--seed", "1", "--repeat", "4", "--jobs", "1"])
        .args(extra)
        .arg("message/01-*")
        .assert()
}

#[test]
fn a_verdict_that_changes_is_flaky_with_the_seeds_of_each_side() {
    let submission = alternating_submission();
    let out = tempfile::tempdir().unwrap();
    let json = out.path().join("report.json");
    let recording = out.path().join("run.jsonl");
    let junit = out.path().join("junit.xml");
    grade_alternating(
        submission.path(),
        &[
            "--json".as_ref(),
            json.as_os_str(),
            "--record".as_ref(),
            recording.as_os_str(),
            "--junit".as_ref(),
            junit.as_os_str(),
        ],
    )
    .code(1)
    .stdout(predicate::str::contains("FLAKY   message/01-text-20k"))
    .stdout(predicate::str::contains(
        "2 passed (seeds 1, 3), 2 failed (seeds 2, 4)",
    ))
    .stdout(predicate::str::contains(
        "1 flaky (counted as failed): message/01-text-20k",
    ));

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let submission_report = &report["submissions"][0];
    assert_eq!(submission_report["counts"]["flaky"], 1);
    let scenario = &submission_report["scenarios"][0];
    // The scenario shown is the first repetition that failed, and replays alone.
    assert_eq!(scenario["seed"], 2);
    assert_eq!(scenario["status"], "fail");
    assert!(scenario["replay"].as_str().unwrap().contains("--seed 2"));
    let repetitions = &scenario["repetitions"];
    assert_eq!(repetitions["flaky"], true);
    assert_eq!(repetitions["passed_seeds"], serde_json::json!([1, 3]));
    assert_eq!(repetitions["failed_seeds"], serde_json::json!([2, 4]));

    // JUnit: a failure of type `flaky`, and each repetition that failed with its seed.
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("type=\"flaky\""), "{junit}");
    assert_eq!(junit.matches("<flakyFailure").count(), 2, "{junit}");

    // A replayed recording tells the same.
    harness()
        .arg("replay")
        .arg(&recording)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "2 passed (seeds 1, 3), 2 failed (seeds 2, 4)",
        ));
}

#[test]
fn repeat_refuses_zero_and_the_reports_that_show_one_run() {
    harness()
        .args(["--reference", "--repeat", "0", "message/01-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--repeat 0 would run nothing"));
    let out = tempfile::tempdir().unwrap();
    harness()
        .args(["--reference", "--repeat", "2", "--gradescope"])
        .arg(out.path().join("results.json"))
        .arg("message/01-*")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--gradescope cannot report a run with --repeat 2",
        ));
    // Gradescope still gets a results file, which tells the student the run could not grade.
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    assert!(
        results.contains("cannot report a run with --repeat"),
        "{results}"
    );
}
