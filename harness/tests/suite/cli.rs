//! The command line: exit codes, errors that say what and where, and the README's commands
//! on small selections (the guide's own commands run in `docs::commands`).

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
            "target `no/such/folder` is neither a submission folder nor a program file: nothing is there",
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
        // The kit's 25 tasks on one line, not the 38 program names they take.
        .stderr(predicate::str::contains(
            "no program for 25 tasks (calc, chat, direct-chat, dual-stack, echo-plus, ftp-upload, and 19 more)",
        ))
        .stderr(predicate::str::contains(
            "the folder has no file. The harness runs programs named <task>-<role>, with any extension (message-server.py, message-client.py), or what a submission.toml names",
        ));
}

#[test]
fn a_folder_of_other_names_is_told_its_files_and_a_manifest_that_runs_them() {
    let folder = tempfile::tempdir().unwrap();
    for file in ["server.py", "client.py", "README.md"] {
        std::fs::write(folder.path().join(file), "").unwrap();
    }
    harness()
        .arg("--target")
        .arg(folder.path())
        .args(["--task", "message"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no program for message"))
        .stderr(predicate::str::contains(
            "  found: README.md, client.py, server.py",
        ))
        .stderr(predicate::str::contains(
            "programs named message-client, message-server (any extension)",
        ))
        .stderr(predicate::str::contains(
            "    [message]\n    client = \"python3 client.py {host} {port}\"\n    server = \"python3 server.py {port}\"",
        ));
}

#[test]
fn a_mistyped_task_or_scenario_gets_a_suggestion() {
    harness()
        .args(["--reference", "--task", "mesage"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown task `mesage`: did you mean `message`?",
        ));
    harness()
        .args(["list", "--task", "web-sever"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `web-server`?"));
    harness()
        .args(["--reference", "mesage/01-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no scenario matches `mesage/01-*`: did you mean `message/01-*`?",
        ));
    harness()
        .args(["--reference", "message/01-txt*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `message/01-text-20k`?",
        ));
}

#[test]
fn help_groups_the_options_under_headings_and_ends_with_examples() {
    let output = harness()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .clone();
    let help = String::from_utf8_lossy(&output.stdout);
    let headings = [
        "What to grade:",
        "Which scenarios:",
        "How to run them:",
        "The simulated network (with --simulate):",
        "What the terminal shows:",
        "Report files:",
        "A class's gradebook:",
        "Grading platforms (one submission per run):",
        "Examples:",
    ];
    let at: Vec<usize> = headings
        .iter()
        .map(|heading| {
            help.find(&format!("\n{heading}\n"))
                .unwrap_or_else(|| panic!("no heading {heading}:\n{help}"))
        })
        .collect();
    assert!(at.windows(2).all(|pair| pair[0] < pair[1]), "{help}");
    assert!(help.contains("--roster <ROSTER.csv>"), "{help}");
    assert!(
        help.contains("  harness --target my-lab --task message\n"),
        "{help}"
    );
}

#[test]
fn unknown_task_and_empty_selection_are_usage_errors() {
    harness()
        .args(["--reference", "--task", "no-such-task"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown task `no-such-task` (tasks: calc, chat,",
        ));
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

/// Issue 50 §6: the header names who plays the MySQL server only for a run that grades
/// `mysql-remote`: not for a submission of `message` alone, graded on every task found.
#[test]
fn the_mysql_server_is_named_only_where_mysql_scenarios_run() {
    harness()
        .args(["--target", "fixtures/submissions/sample"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MySQL").not())
        .stderr(predicate::str::contains("MySQL").not());
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
        ))
        // Each file named once the run is over, on stderr: stdout ends on the report.
        .stderr(predicate::str::contains("reports written:"))
        .stderr(predicate::str::contains(format!(
            "  --gradebook          {}",
            path("grades.csv").display()
        )))
        .stderr(predicate::str::contains(format!(
            "  --html               {}",
            path("html/index.html").display()
        )));
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
