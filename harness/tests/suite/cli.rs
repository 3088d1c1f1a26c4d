//! The command line: exit codes, errors that say what and where, and the two README
//! commands on small selections.

use crate::common;
use crate::common::harness;

use predicates::prelude::*;

#[test]
fn unknown_argument_is_a_usage_error() {
    harness()
        .arg("--bogus")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unexpected argument '--bogus'"));
}

#[test]
fn a_number_of_jobs_out_of_range_is_a_usage_error() {
    harness()
        .args(["--reference", "--jobs", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`0` is not a number of jobs: give 1 to 64, or `auto`",
        ));
}

#[test]
fn nothing_to_grade_is_a_usage_error() {
    harness().assert().code(2).stderr(predicate::str::contains(
        "give --target DIR, --reference or --simulate",
    ));
}

#[test]
fn a_missing_target_folder_is_named() {
    harness()
        .args(["--target", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "target `no/such/folder` is not a folder",
        ));
}

#[test]
fn an_empty_folder_says_what_it_expected() {
    let empty = tempfile::tempdir().unwrap();
    harness()
        .arg("--target")
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to grade in "))
        // Every task with scenarios, in order, and the programs each would need.
        .stderr(predicate::str::contains(
            "no program for calc, chat, direct-chat, dual-stack, echo-plus, ftp-upload, imap-read, interfaces, mail-archive, message, mx-lookup, mysql-remote, password, pop3-fetch, port-forward, ",
        ))
        .stderr(predicate::str::contains(
            "(expected calc-client, calc-fork, calc-select, ",
        ))
        .stderr(predicate::str::contains("xmlrpc-server with any extension"));
}

#[test]
fn unknown_task_and_empty_selection_are_usage_errors() {
    harness()
        .args(["--reference", "--task", "mesage"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown task `mesage`"));
    harness()
        .args(["--reference", "message/99-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no scenario matches"));
}

#[test]
fn a_bad_scenario_file_stops_the_harness_with_its_line() {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    std::fs::copy(
        common::kit_root().join("scenarios/tasks.toml"),
        scenarios.join("tasks.toml"),
    )
    .unwrap();
    std::fs::write(
        scenarios.join("message/01.toml"),
        "task = \"message\"\nclauses = \"message/1\"\n",
    )
    .unwrap();
    harness()
        .arg("list")
        .arg("--scenarios")
        .arg(&scenarios)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "message/01.toml:2: invalid type: string \"message/1\", expected a sequence",
        ));
}

#[test]
fn a_bad_submission_manifest_is_named_with_its_line() {
    let submission = tempfile::tempdir().unwrap();
    std::fs::write(
        submission.path().join("submission.toml"),
        "[message]\nserver = \"python3 s.py {port}\"\nsevrer = \"x\"\n",
    )
    .unwrap();
    harness()
        .arg("--target")
        .arg(submission.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "submission.toml:3: unknown key `sevrer` for task `message`",
        ));
}

#[test]
fn list_shows_tasks_scenarios_and_clauses() {
    harness()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "message: Sequential message server and client",
        ))
        .stdout(predicate::str::contains("message/10-five-clients-at-once"))
        .stdout(predicate::str::contains("message/2"))
        .stdout(predicate::str::contains("web-server: HTTP file server"));
}

#[test]
fn a_passing_selection_exits_zero_with_the_closing_line() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/good",
            "--seed",
            "5",
            "message/01-*",
            "message/12-*",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("grading").and(predicate::str::contains("with seed 5")))
        .stdout(predicate::str::ends_with("2 passed, 0 failed\n"));
}

#[test]
fn a_failing_scenario_exits_one_and_tells_what_to_fix() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "5",
            "message/06-binary",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL    message/06-binary"))
        .stdout(predicate::str::contains(
            "clause       message/9, message/1",
        ))
        .stdout(predicate::str::contains("first difference at byte"))
        .stdout(predicate::str::contains(
            "replay: harness --target fixtures/submissions/sample --seed 5 'message/06-binary'",
        ))
        // The counts, then the short summary: each failure's first sentence, by cause.
        .stdout(predicate::str::contains(
            "\n0 passed, 1 failed\n\nshort summary: 1 failed, 1 cause\n",
        ))
        .stdout(predicate::str::contains(
            "  FAIL message/06-binary: your server ",
        ));
}

#[test]
fn submission_manifest_maps_other_file_names() {
    let submission = tempfile::tempdir().unwrap();
    let good = common::kit_root().join("fixtures/submissions/good");
    std::fs::copy(
        good.join("message-server.py"),
        submission.path().join("srv.py"),
    )
    .unwrap();
    std::fs::copy(
        good.join("message-client.py"),
        submission.path().join("cli.py"),
    )
    .unwrap();
    std::fs::write(
        submission.path().join("submission.toml"),
        "[message]\nserver = \"python3 srv.py {port}\"\nclient = \"python3 cli.py {host} {port}\"\n",
    )
    .unwrap();
    harness()
        .arg("--target")
        .arg(submission.path())
        .args(["message/01-*", "message/02-*"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("2 passed, 0 failed\n"));
}

#[test]
fn every_report_is_written_in_one_run() {
    let out = tempfile::tempdir().unwrap();
    let path = |name: &str| out.path().join(name);
    harness()
        .args(["--target", "fixtures/submissions/sample", "--seed", "1"])
        .arg("--pcap")
        .arg(path("pcap"))
        .arg("--json")
        .arg(path("report.json"))
        .arg("--junit")
        .arg(path("junit.xml"))
        .arg("--gradescope")
        .arg(path("results.json"))
        .arg("--html")
        .arg(path("html"))
        .arg("--gradebook")
        .arg(path("grades.csv"))
        .arg("--record")
        .arg(path("run.jsonl"))
        .args(["message/01-*", "message/06-*"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\n1 passed, 1 failed\n\nshort summary: 1 failed, 1 cause\n",
        ));
    for file in [
        "pcap/message/01-text-20k.pcap",
        "pcap/message/06-binary.pcap",
        "report.json",
        "junit.xml",
        "results.json",
        "html/index.html",
        "grades.csv",
        "run.jsonl",
    ] {
        let size = std::fs::metadata(path(file)).map(|meta| meta.len());
        assert!(size.is_ok_and(|size| size > 0), "{file} was not written");
    }
    let page = std::fs::read_to_string(path("html/index.html")).unwrap();
    assert!(
        page.contains("href=\"../pcap/message/06-binary.pcap\""),
        "the page links each scenario to its capture"
    );
}

#[test]
fn a_report_that_could_not_be_written_is_refused_before_grading() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/good",
            "--json",
            "/no/such/folder/report.json",
            "message/01-*",
        ])
        .assert()
        .code(2)
        // Before anything runs: nothing graded is lost to a typo.
        .stdout("")
        .stderr(predicate::str::contains(
            "harness: --json /no/such/folder/report.json: the folder /no/such/folder does not exist",
        ));
}
