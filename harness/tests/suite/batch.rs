//! Grading several submissions at once, the gradebook, recorded runs and the terminal's
//! modes (`--quiet`, `--explain`).

use crate::common;
use crate::common::harness;

use std::path::{Path, PathBuf};

use predicates::prelude::*;

/// `count` copies of the sample submission in one folder: `copy-00`, `copy-01`, ...
fn copies_of_the_sample(count: usize) -> (tempfile::TempDir, Vec<PathBuf>) {
    let folder = tempfile::tempdir().unwrap();
    let sample = common::kit_root().join("fixtures/submissions/sample");
    let copies = (0..count)
        .map(|index| {
            let copy = folder.path().join(format!("copy-{index:02}"));
            std::fs::create_dir(&copy).unwrap();
            for file in ["message-server.py", "message-client.py"] {
                std::fs::copy(sample.join(file), copy.join(file)).unwrap();
            }
            copy
        })
        .collect();
    (folder, copies)
}

/// The gradebook's rows without their first column (the submission).
fn scores_of(gradebook: &Path) -> (String, Vec<(String, String)>) {
    let text = std::fs::read_to_string(gradebook).unwrap();
    let mut lines = text.lines();
    let header = lines.next().expect("a header").to_owned();
    let rows = lines
        .map(|line| {
            let (submission, rest) = line.split_once(',').expect("a CSV row");
            (submission.to_owned(), rest.to_owned())
        })
        .collect();
    (header, rows)
}

#[test]
fn ten_copies_graded_two_at_a_time_give_ten_identical_rows() {
    let (folder, _) = copies_of_the_sample(10);
    let gradebook = folder.path().join("gradebook.csv");
    let glob = format!("{}/copy-*", folder.path().display());
    harness()
        .args([
            "--target",
            &glob,
            "--jobs",
            "2",
            "--seed",
            "1",
            "--gradebook",
        ])
        .arg(&gradebook)
        .args(["message/01-*", "message/02-*", "message/03-*"])
        .assert()
        // The sample fails message/02 (its client prints a status line on stdout).
        .code(1)
        .stdout(predicate::str::contains(
            "grading 10 submissions with seed 1, 2 at a time",
        ))
        .stdout(predicate::str::contains(
            "10 submissions graded, 10 with failures",
        ))
        .stdout(predicate::str::ends_with("20 passed, 10 failed\n"));
    let (header, rows) = scores_of(&gradebook);
    assert_eq!(
        header,
        "submission,message (/6),total,max,extra,passed,failed,skipped,not_submitted,problem"
    );
    assert_eq!(rows.len(), 10, "one row per submission");
    let names: Vec<&str> = rows.iter().map(|(name, _)| name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "rows are sorted by submission");
    for (name, scores) in &rows {
        assert_eq!(scores, &rows[0].1, "{name} was graded differently");
    }
    assert_eq!(rows[0].1, "4,4,6,0,2,1,0,,");
}

#[test]
fn a_broken_folder_in_a_batch_is_a_row_with_its_problem() {
    let (folder, copies) = copies_of_the_sample(1);
    let broken = folder.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("submission.toml"), "[message\n").unwrap();
    let empty = folder.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let gradebook = folder.path().join("gradebook.csv");
    let html = folder.path().join("html");
    // The class: copy-00 is Alice's, broken Bob's; Carol handed in no folder; `empty` is
    // in no row.
    let roster = folder.path().join("roster.csv");
    std::fs::write(
        &roster,
        "Student,ID,SIS User ID,SIS Login ID,Section,Email,Folder\n\
         \"Doe, Alice\",101,s101,alice,Mon,alice@uni.edu,copy-00\n\
         Bob,102,s102,bob,Mon,bob@uni.edu,broken\n\
         Carol,103,s103,carol,Tue,carol@uni.edu,\n",
    )
    .unwrap();
    let output = harness()
        .arg("--target")
        .arg(&copies[0])
        .arg("--target")
        .arg(&broken)
        .arg("--target")
        .arg(&empty)
        .args(["--seed", "1", "--task", "message", "--gradebook"])
        .arg(&gradebook)
        .arg("--roster")
        .arg(&roster)
        .args(["--assignment", "Lab 1"])
        .arg("--html")
        .arg(&html)
        .arg("message/01-*")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("3 submissions graded"))
        // One maximum for all, and neither a broken nor an empty folder reads as a pass.
        .stdout(predicate::str::contains(
            "copy-00: 2/2 points, 1 passed, 0 failed",
        ))
        .stdout(predicate::str::contains(
            "broken: 0/2 points: could not be graded: ",
        ))
        .stdout(predicate::str::contains(
            "empty: 0/2 points: nothing submitted (no program for message)",
        ))
        .stdout(predicate::str::contains("2 with nothing graded"))
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reports written:"), "{stderr}");
    assert!(
        stderr.contains(&gradebook.with_extension("canvas.csv").display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains("no submission for Carol (no folder in the roster)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the submission `empty` is in no roster row"),
        "{stderr}"
    );
    let (_, rows) = scores_of(&gradebook);
    let row = |name: &str| {
        rows.iter()
            .find(|(submission, _)| submission == name)
            .unwrap_or_else(|| panic!("no row named {name} (by its folder): {rows:?}"))
            .1
            .clone()
    };
    assert_eq!(row("copy-00"), "2,2,2,0,1,0,0,,");
    assert!(
        row("broken").starts_with("0,0,2,0,0,0,0,message,"),
        "out of the same maximum: {}",
        row("broken")
    );
    assert!(
        row("broken").contains("submission.toml:1"),
        "the problem names the file and line: {}",
        row("broken")
    );
    assert_eq!(row("empty"), "0,0,2,0,0,0,0,message,");

    // Canvas's gradebook import and Moodle's grade import, header rows exactly as
    // documented (see `harness::report::gradebook`).
    let canvas = std::fs::read_to_string(gradebook.with_extension("canvas.csv")).unwrap();
    assert_eq!(
        canvas.lines().collect::<Vec<_>>(),
        [
            "Student,ID,SIS User ID,SIS Login ID,Section,Lab 1",
            "    Points Possible,,,,,2",
            "\"Doe, Alice\",101,s101,alice,Mon,2",
            "Bob,102,s102,bob,Mon,0",
            "Carol,103,s103,carol,Tue,0",
        ]
    );
    let moodle = std::fs::read_to_string(gradebook.with_extension("moodle.csv")).unwrap();
    assert_eq!(
        moodle.lines().collect::<Vec<_>>(),
        [
            "Full name,Email address,Username,ID number,Lab 1",
            "\"Doe, Alice\",alice@uni.edu,,,2",
            "Bob,bob@uni.edu,,,0",
            "Carol,carol@uni.edu,,,0",
        ]
    );

    let index = std::fs::read_to_string(html.join("index.html")).unwrap();
    assert!(
        index.contains("--task message &#39;message/01-*&#39; --seed 1"),
        "the index's replay keeps the selection"
    );
    assert!(index.contains("<h2>Scenarios by student</h2>"));
    assert!(
        index.contains("<tr class=\"bad\"><td><a href=\"empty.html\">empty</a>"),
        "an empty folder is not green"
    );
    assert!(index.contains("<td class=\"n\">0/2 points</td>"));
}

#[test]
fn a_folder_of_a_batch_that_is_a_link_or_links_its_programs_out_scores_nothing_and_says_why() {
    let (folder, copies) = copies_of_the_sample(1);
    // `linked` is copy-00 through a link; `borrowed` links copy-00's server as its own.
    std::os::unix::fs::symlink(&copies[0], folder.path().join("linked")).unwrap();
    let borrowed = folder.path().join("borrowed");
    std::fs::create_dir(&borrowed).unwrap();
    std::os::unix::fs::symlink(
        "../copy-00/message-server.py",
        borrowed.join("message-server.py"),
    )
    .unwrap();
    std::fs::copy(
        copies[0].join("message-client.py"),
        borrowed.join("message-client.py"),
    )
    .unwrap();
    let gradebook = folder.path().join("gradebook.csv");
    harness()
        .arg("--target")
        .arg(format!("{}/*", folder.path().display()))
        .args(["--seed", "1", "--task", "message", "--gradebook"])
        .arg(&gradebook)
        .arg("message/01-*")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("3 submissions graded"))
        .stdout(predicate::str::contains(
            "copy-00: 2/2 points, 1 passed, 0 failed",
        ))
        .stdout(predicate::str::contains(
            "linked: 0/2 points: could not be graded: submission ",
        ))
        .stdout(predicate::str::contains(
            "borrowed: 0/2 points: could not be graded: `message-server.py` is a symbolic link to ../copy-00/message-server.py",
        ));
    let (_, rows) = scores_of(&gradebook);
    let row = |name: &str| {
        rows.iter()
            .find(|(submission, _)| submission == name)
            .unwrap_or_else(|| panic!("no row named {name}: {rows:?}"))
            .1
            .clone()
    };
    assert_eq!(row("copy-00"), "2,2,2,0,1,0,0,,");
    for name in ["linked", "borrowed"] {
        assert!(
            row(name).starts_with("0,0,2,0,0,0,0,message,"),
            "{name}: {}",
            row(name)
        );
        assert!(
            row(name).contains("never through a link"),
            "{name}: {}",
            row(name)
        );
    }
}

#[test]
fn folders_named_as_formulas_are_text_in_the_gradebook() {
    let class = tempfile::tempdir().unwrap();
    let names = [
        "=HYPERLINK(\"http:evil.example\",\"A+\")",
        "@SUM(1+1)",
        "-2+3",
        "alice",
    ];
    for name in names {
        std::fs::create_dir(class.path().join(name)).unwrap();
    }
    let gradebook = class.path().join("gradebook.csv");
    harness()
        .arg("--target")
        .arg(format!("{}/*", class.path().display()))
        .args(["--task", "message", "--gradebook"])
        .arg(&gradebook)
        .arg("message/01-*")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("4 submissions graded"));
    let text = std::fs::read_to_string(&gradebook).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    // Each a quoted cell with a `'` first, which a spreadsheet shows as the text it is.
    let expected = [
        "\"'-2+3\",0,0,2,0,0,0,0,message,",
        "\"'=HYPERLINK(\"\"http:evil.example\"\",\"\"A+\"\")\",0,0,2,0,0,0,0,message,",
        "\"'@SUM(1+1)\",0,0,2,0,0,0,0,message,",
        "alice,0,0,2,0,0,0,0,message,",
    ];
    assert_eq!(rows, expected, "{text}");
}

/// Grades two message scenarios of the sample (one passes, one fails) with `--record
/// recording`; returns what the run printed.
fn record_sample(recording: &Path) -> Vec<u8> {
    harness()
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "3",
            "--record",
        ])
        .arg(recording)
        .args(["message/01-*", "message/06-*"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone()
}

#[test]
fn a_recorded_run_replays_into_the_same_report() {
    let folder = tempfile::tempdir().unwrap();
    let recording = folder.path().join("run.jsonl");
    let live = record_sample(&recording);
    let replayed = harness()
        .arg("replay")
        .arg(&recording)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&replayed),
        String::from_utf8_lossy(&live),
        "the replay prints what the run printed"
    );
    // And into a report the run did not ask for.
    let gradebook = folder.path().join("gradebook.csv");
    harness()
        .arg("replay")
        .arg(&recording)
        .arg("--quiet")
        .arg("--gradebook")
        .arg(&gradebook)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "message: 1/2 scenarios passed, 2/4 points\ngraded in ",
        ))
        .stdout(predicate::str::ends_with("1 passed, 1 failed\n"));
    let (_, rows) = scores_of(&gradebook);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "2,2,4,0,1,1,0,,");
}

/// A recording as formats 1 and 2 wrote it: each verdict's step log, transcript and wire
/// told in `step`, `transcript-chunk` and `capture` events before it.
fn as_format_two(recording: &str) -> String {
    let mut lines = Vec::new();
    for line in recording.lines() {
        let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
        match event["event"].as_str() {
            Some("run-started") => event["record_version"] = 2.into(),
            Some("verdict") => {
                let outcome = event["outcome"].as_object_mut().unwrap();
                let id = outcome["id"].clone();
                let submission = event["submission"].clone();
                let outcome = event["outcome"].as_object_mut().unwrap();
                let log = outcome.remove("log").unwrap();
                let transcript = outcome.remove("transcript").unwrap();
                let wire = outcome.remove("wire").unwrap();
                for line in log.as_array().unwrap() {
                    lines.push(
                        serde_json::json!({ "event": "step", "submission": submission,
                        "id": id, "at": line["at"], "text": line["text"] }),
                    );
                }
                for entry in transcript[0].as_array().unwrap() {
                    lines.push(serde_json::json!({ "event": "transcript-chunk",
                        "submission": submission, "id": id, "entry": entry }));
                }
                if !wire["flows"].as_array().unwrap().is_empty() {
                    lines.push(serde_json::json!({ "event": "capture",
                        "submission": submission, "id": id, "wire": wire }));
                }
                event["transcript_left_out"] = transcript[1].clone();
            }
            _ => {}
        }
        lines.push(event);
    }
    lines.iter().map(|event| format!("{event}\n")).collect()
}

#[test]
fn a_recording_of_format_two_replays_into_the_same_reports() {
    let folder = tempfile::tempdir().unwrap();
    let recording = folder.path().join("run.jsonl");
    record_sample(&recording);
    let older = folder.path().join("older.jsonl");
    let text = std::fs::read_to_string(&recording).unwrap();
    std::fs::write(&older, as_format_two(&text)).unwrap();
    assert!(
        std::fs::read_to_string(&older)
            .unwrap()
            .contains("\"transcript-chunk\"")
    );
    let replay = |file: &std::path::Path, pcap: &std::path::Path| {
        harness()
            .arg("replay")
            .arg(file)
            .arg("-v")
            .arg("--pcap")
            .arg(pcap)
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let (pcap_new, pcap_old) = (folder.path().join("new"), folder.path().join("old"));
    let new = replay(&recording, &pcap_new);
    let old = replay(&older, &pcap_old);
    assert_eq!(
        String::from_utf8_lossy(&old),
        String::from_utf8_lossy(&new),
        "a format 2 recording reports what format 3 does (step log and transcript included)"
    );
    assert!(String::from_utf8_lossy(&new).contains("step 1:"));
    for capture in ["message/01-text-20k.pcap", "message/06-binary.pcap"] {
        let (new, old) = (
            pcap_new.join("sample").join(capture),
            pcap_old.join("sample").join(capture),
        );
        let new_bytes = std::fs::read(&new)
            .or_else(|_| std::fs::read(pcap_new.join(capture)))
            .unwrap_or_else(|error| panic!("{}: {error}", new.display()));
        let old_bytes = std::fs::read(&old)
            .or_else(|_| std::fs::read(pcap_old.join(capture)))
            .unwrap_or_else(|error| panic!("{}: {error}", old.display()));
        assert_eq!(old_bytes, new_bytes, "{capture}: the same capture");
    }
}

#[test]
fn replay_refuses_what_is_not_a_recording() {
    let folder = tempfile::tempdir().unwrap();
    let bogus = folder.path().join("bogus.jsonl");
    std::fs::write(&bogus, "{\"event\":\"run-finished\",\"elapsed\":1}\n").unwrap();
    harness()
        .arg("replay")
        .arg(&bogus)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bogus.jsonl:1: a recording starts with",
        ));
    std::fs::write(&bogus, "not json\n").unwrap();
    harness()
        .arg("replay")
        .arg(&bogus)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bogus.jsonl:1: not an event"));
}

#[test]
fn a_glob_the_shell_expanded_is_caught() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/good",
            "fixtures/submissions/sample",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`fixtures/submissions/sample` is a folder, not a scenario pattern",
        ));
    harness()
        .args(["--target", "fixtures/no-such-*"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("matches no folder"));
}

#[test]
fn gradescope_takes_one_submission() {
    // Written to a folder of the test's own: a refused run still writes the file (saying
    // why), and must not leave it in the kit.
    let folder = tempfile::tempdir().unwrap();
    harness()
        .args([
            "--target",
            "fixtures/submissions/good",
            "--target",
            "fixtures/submissions/sample",
            "--gradescope",
        ])
        .arg(folder.path().join("results.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--gradescope describes one submission",
        ));
}

#[test]
fn quiet_prints_only_the_closing_lines() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "1",
            "--quiet",
            "message/06-*",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "message: 0/1 scenarios passed, 0/2 points\ngraded in ",
        ))
        .stdout(predicate::str::ends_with("0 passed, 1 failed\n"));
}

#[test]
fn explain_says_what_the_clause_asks_with_a_hint() {
    harness()
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "1",
            "--explain",
            "message/06-*",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "  in plain words\n    The spec (message/9, message/1) asks: ",
        ))
        .stdout(predicate::str::contains(
            "    The harness expected server's stdout to be exactly",
        ))
        // The hints are under every failure's first line, with or without --explain.
        .stdout(predicate::str::contains("\n  hint         "));
}

#[test]
fn two_submissions_on_the_same_fixed_port_are_graded_at_once_apart() {
    // Both servers hard-code port 23456: on one shared loopback the second could not bind.
    // Each grading thread has a network namespace of its own, so both pass.
    let folder = tempfile::tempdir().unwrap();
    let good = common::kit_root().join("fixtures/submissions/good");
    let mut command = harness();
    for name in ["first", "second"] {
        let copy = folder.path().join(name);
        std::fs::create_dir(&copy).unwrap();
        for file in ["message-server.py", "message-client.py"] {
            std::fs::copy(good.join(file), copy.join(file)).unwrap();
        }
        std::fs::write(copy.join("submission.toml"), "[message]\nport = 23456\n").unwrap();
        command.arg("--target").arg(&copy);
    }
    command
        .args(["--jobs", "2", "--seed", "1", "--verbose", "message/0[13]-*"])
        .assert()
        .success()
        // `port` alone in the manifest applies to the programs found by their names.
        .stdout(predicate::str::contains("message-server.py 23456`"))
        .stdout(predicate::str::contains(
            "2 at a time, each scenario in its own network namespace",
        ))
        .stdout(predicate::str::ends_with("4 passed, 0 failed\n"));
}

/// Kurose-style programs: port 12000 hard-coded in servers and clients, no SO_REUSEADDR.
/// On one plain loopback the second scenario could not bind (TIME_WAIT) and two
/// submissions at once would clash. A network namespace per scenario (and a stand-in on
/// 12000 for the clients) makes all of them pass; so does, without namespaces (a platform's
/// container), the interposed library that moves 12000 to a fresh port per program.
#[rstest::rstest]
#[case::in_namespaces(None, "each scenario in its own network namespace")]
#[case::on_one_loopback(Some("1"), "sharing this machine's loopback")]
fn ten_submissions_hard_coding_port_12000_without_reuse_all_pass_two_at_a_time(
    #[case] no_namespaces: Option<&str>,
    #[case] mode: &str,
) {
    let folder = tempfile::tempdir().unwrap();
    let fixture = common::kit_root().join("fixtures/submissions/hard-coded-port");
    let mut command = harness();
    if let Some(value) = no_namespaces {
        command.env("HARNESS_NO_NAMESPACES", value);
    }
    for index in 0..10 {
        let copy = folder.path().join(format!("student-{index:02}"));
        common::copy_tree(&fixture, &copy);
        command.arg("--target").arg(&copy);
    }
    let gradebook = folder.path().join("class.csv");
    command
        .args(["--jobs", "2", "--seed", "1", "--gradebook"])
        .arg(&gradebook)
        // A server alone, a client alone (the stand-in), both through a relay (the client
        // in a namespace of its own), UDP, and the web server in its site.
        .args([
            "upper-tcp/0[13]-*",
            "upper-tcp/11-*",
            "upper-udp/04-*",
            "web-server/0[15]-*",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "10 submissions with seed 1, 2 at a time, {mode}"
        )))
        .stdout(predicate::str::contains("TIME_WAIT: waited").not());
    let rows = std::fs::read_to_string(&gradebook).unwrap();
    let rows: Vec<&str> = rows.lines().skip(1).collect();
    assert_eq!(rows.len(), 10, "{rows:?}");
    for row in rows {
        assert!(row.contains(",6,0,0,"), "every scenario passed: {row}");
    }
}

#[test]
fn a_recorded_batch_replays_as_a_batch() {
    let folder = tempfile::tempdir().unwrap();
    let recording = folder.path().join("class.jsonl");
    let live = harness()
        .args([
            "--target",
            "fixtures/submissions/good",
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "2",
            "--record",
        ])
        .arg(&recording)
        .arg("message/02-*")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let live = String::from_utf8_lossy(&live).into_owned();
    assert!(
        live.contains("2 submissions graded, 1 with failures"),
        "{live}"
    );
    let replayed = harness().arg("replay").arg(&recording).assert().code(1);
    assert_eq!(
        String::from_utf8_lossy(&replayed.get_output().stdout),
        live,
        "the replay prints what the run printed"
    );
}

#[test]
fn one_submissions_scenarios_run_three_at_a_time_and_report_in_order() {
    // The hard-coded-port fixture's programs all use port 12000: three of its scenarios at
    // once meet only if their network namespaces leak.
    let run = |jobs: &str| {
        let output = harness()
            .args(["--target", "fixtures/submissions/hard-coded-port"])
            .args(["--jobs", jobs, "--seed", "1"])
            .args([
                "upper-tcp/0[1-4]-*",
                "upper-tcp/1[01]-*",
                "upper-udp/0[1-4]-*",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    };
    let verdicts = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.starts_with("PASS") || line.starts_with("FAIL"))
            .map(|line| {
                line.split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let parallel = run("3");
    assert!(
        parallel.contains("with seed 1, 3 scenarios at a time"),
        "{parallel}"
    );
    let one_at_a_time = run("1");
    assert_eq!(verdicts(&parallel), verdicts(&one_at_a_time));
    let ids: Vec<String> = verdicts(&parallel);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "scenario lines in id order");
    assert!(ids.len() >= 8, "{parallel}");
}
