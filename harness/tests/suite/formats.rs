//! The file reports, `--json`, `--junit`, `--gradescope`, `--prairielearn` and
//! `--github-classroom`, of real gradings and of runs made up to hold every verdict: the
//! JSON validates against its published schema (and the schema can reject), the JUnit XML
//! has the suites, cases, failures and skips it should, and each grading platform's
//! document has exactly the fields that platform documents, with the points every other
//! report counts. A scenario this run cannot play leaves the maximum in every format; one
//! the submission lacks a program for stays in it.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use harness::batch::{Batch, Entry, grade_all};
use harness::events::{
    Event, EventSink, Isolation, RECORD_VERSION, RunInfo, SubmissionInfo, WorldKind, verdict,
};
use harness::grading::Mode;
use harness::outcome::Category;
use harness::outcome::{Failure, LogLine, Outcome, ProgramReport, SkipKind, Status};
use harness::report::{Reporters, RunRecord, Score};
use harness::report::{classroom, gradescope, json, junit, prairielearn};
use harness::scenario::{Selection, load_suite};
use harness::target::Target;
use harness::transcript::{Direction, TranscriptEntry};
use harness::world::real::process::{ExitInfo, ExitKind, HarnessStop};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// A real grading, shared by the tests: the sample submission on five `message` scenarios,
// two of them copies graded as extra, one earned and one missed.

/// The scenarios graded, and the verdict the sample submission gets on each with seed 1.
const GRADED: &[(&str, &str)] = &[
    ("message/01-text-20k", "pass"),
    ("message/02-client-sends-stdin", "fail"),
    ("message/06-binary", "fail"),
    ("message/90-extra-text", "pass"),
    ("message/91-extra-binary", "missed"),
];

/// The outputs of the shared grading.
struct Graded {
    run: RunRecord,
    json: String,
    junit: String,
    gradescope: String,
    prairielearn: String,
    classroom: String,
    /// The submission's replay command.
    replay_command: String,
}

/// A kit with `message/01`, `02` and `06`, and two copies of `01` and `06` marked
/// `extra = true`.
fn kit_with_extras() -> tempfile::TempDir {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    let source = common::kit_root().join("scenarios");
    std::fs::copy(source.join("tasks.toml"), scenarios.join("tasks.toml")).unwrap();
    std::os::unix::fs::symlink(
        common::kit_root().join("fixtures"),
        kit.path().join("fixtures"),
    )
    .unwrap();
    for name in ["01-text-20k", "02-client-sends-stdin", "06-binary"] {
        let file = format!("{name}.toml");
        std::fs::copy(
            source.join("message").join(&file),
            scenarios.join("message").join(&file),
        )
        .unwrap();
    }
    for (from, to) in [
        ("01-text-20k", "90-extra-text"),
        ("06-binary", "91-extra-binary"),
    ] {
        let text = std::fs::read_to_string(source.join(format!("message/{from}.toml"))).unwrap();
        let text = text.replacen("points = 2\n", "points = 2\nextra = true\n", 1);
        assert!(text.contains("extra = true"), "{from} has `points = 2`");
        std::fs::write(scenarios.join(format!("message/{to}.toml")), text).unwrap();
    }
    kit
}

fn graded() -> &'static Graded {
    static GRADED_RUN: OnceLock<Graded> = OnceLock::new();
    GRADED_RUN.get_or_init(|| {
        let kit = kit_with_extras();
        let suite = load_suite(&kit.path().join("scenarios")).expect("the scenarios load");
        let folder = common::kit_root().join("fixtures/submissions/sample");
        let target = Target::from_folder(&folder, &suite.catalogue, &common::companions())
            .expect("a valid target");
        let selection = Selection::new(Vec::new(), &[]).unwrap();
        let replay_command = format!("harness --target {}", folder.display());
        let out = tempfile::tempdir().unwrap();
        let mut reporters = Reporters::new();
        reporters.add("json", json::report(out.path().join("report.json")));
        reporters.add("junit", junit::report(out.path().join("junit.xml")));
        reporters.add(
            "gradescope",
            gradescope::report(out.path().join("results.json"), Vec::new()),
        );
        reporters.add(
            "prairielearn",
            prairielearn::report(out.path().join("pl.json")),
        );
        reporters.add(
            "classroom",
            classroom::report(out.path().join("classroom.json")),
        );
        grade_all(
            Batch {
                suite: &suite,
                selection: &selection,
                entries: vec![Entry {
                    label: target.label.clone(),
                    replay_command: replay_command.clone(),
                    target: Ok(target),
                }],
                seed: common::SEED,
                mode: Mode::Real,
                settings: &harness::settings::RunSettings::machine_defaults(),
                jobs: 1,
                repeat: harness::repeat::Repeat::ONCE,
                replay_command: replay_command.clone(),
            },
            &mut reporters,
        )
        .expect("grading runs");
        let run = reporters.finish().expect("every report is written");
        let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
        Graded {
            json: read("report.json"),
            junit: read("junit.xml"),
            gradescope: read("results.json"),
            prairielearn: read("pl.json"),
            classroom: read("classroom.json"),
            run,
            replay_command,
        }
    })
}

/// The verdicts of the shared grading, checked once so every test can rely on them.
fn verdicts(run: &RunRecord) -> BTreeMap<String, Status> {
    let submission = &run.submissions[0];
    submission
        .outcomes
        .iter()
        .map(|outcome| (outcome.id.clone(), outcome.status))
        .collect()
}

#[test]
fn the_sample_gets_the_verdicts_the_format_tests_rely_on() {
    let verdicts = verdicts(&graded().run);
    let words: BTreeMap<String, &str> = verdicts
        .iter()
        .map(|(id, status)| (id.clone(), harness::report::json::status_word(*status)))
        .collect();
    let expected: BTreeMap<String, &str> = GRADED
        .iter()
        .map(|(id, word)| (id.to_string(), *word))
        .collect();
    assert_eq!(words, expected);
}

// ---------------------------------------------------------------------------------------
// JSON

/// The published schema, compiled (which checks it against draft 2020-12's meta-schema).
fn schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
        let text = std::fs::read_to_string(&path).expect("harness/schema/report.schema.json");
        let document: Value = serde_json::from_str(&text).expect("the schema is JSON");
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_content_assertions();
        compiler
            .add_resource("report.schema.json", document)
            .unwrap();
        let index = compiler
            .compile("report.schema.json", &mut schemas)
            .unwrap_or_else(|error| panic!("the schema compiles: {error:#}"));
        (schemas, index)
    })
}

/// Why `document` does not validate, or `None`.
fn violations(document: &Value) -> Option<String> {
    let (schemas, index) = schema();
    schemas
        .validate(document, *index)
        .err()
        .map(|error| format!("{error}"))
}

fn assert_valid(document: &Value) {
    if let Some(error) = violations(document) {
        panic!("the report does not follow its schema:\n{error}\n{document:#}");
    }
}

#[test]
fn json_report_of_a_real_grading_follows_its_schema() {
    let graded = graded();
    let document: Value = serde_json::from_str(&graded.json).expect("--json writes JSON");
    assert_valid(&document);

    assert_eq!(document["schema_version"], 7);
    assert_eq!(document["seed"], common::SEED);
    assert_eq!(document["world"], "real");
    assert_eq!(document["harness_version"], env!("CARGO_PKG_VERSION"));
    let submissions = document["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 1);
    let submission = &submissions[0];
    let scenarios = submission["scenarios"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = scenarios
        .iter()
        .map(|scenario| {
            (
                scenario["id"].as_str().unwrap(),
                scenario["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, GRADED);

    // Points: exactly what every report counts.
    let score = Score::of(&graded.run.submissions[0].outcomes);
    assert_eq!(submission["score"]["earned"], score.earned);
    assert_eq!(submission["score"]["total"], score.total);
    assert_eq!(submission["score"]["extra"], score.extra_earned);
    assert_eq!(
        (score.earned, score.total, score.extra_earned),
        (2, 6, 2),
        "01 passes; 02 and 06 fail; one extra earned"
    );
    assert_eq!(
        submission["counts"],
        json!({ "scenarios": 5, "passed": 2, "failed": 2, "skipped": 0, "missed": 1, "flaky": 0 })
    );
    // Without --repeat every scenario ran once: nothing to say about repetitions.
    assert_eq!(document["repeat"], 1);
    assert!(
        scenarios
            .iter()
            .all(|scenario| scenario["repetitions"].is_null())
    );

    // A failure carries what the terminal shows, and the command that replays it.
    let binary = &scenarios[2];
    let failure = &binary["failure"];
    assert!(failure["step"].as_u64().unwrap() > 0);
    assert!(!failure["expected"].as_str().unwrap().is_empty());
    assert!(
        failure["diff"]
            .as_str()
            .unwrap()
            .contains("first difference at byte"),
        "{failure:#}"
    );
    assert_eq!(
        binary["replay"],
        format!("{} --seed 1 'message/06-binary'", graded.replay_command)
    );
    assert_eq!(binary["capture"], "message/06-binary.pcap");
    assert!(!binary["log"].as_array().unwrap().is_empty());
    let entries = binary["transcript"]["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|entry| entry["direction"] == "to-program"
                && entry["head"]["bytes"].as_u64().unwrap() > 0)
    );
    let program = &binary["programs"][0];
    assert_eq!(program["name"], "server");
    assert!(program["stdout"]["total"].as_u64().unwrap() > 0);

    // The missed extra explains itself; the earned one has nothing to explain.
    assert_eq!(scenarios[4]["extra"], true);
    assert!(scenarios[4]["failure"].is_object());
    assert!(scenarios[3]["failure"].is_null());
}

/// A change that breaks a valid report.
type Breakage = fn(&mut Value);

#[test]
fn the_schema_rejects_what_it_does_not_describe() {
    let document: Value = serde_json::from_str(&graded().json).unwrap();
    assert_valid(&document);
    let broken: Vec<(&str, Breakage)> = vec![
        ("an unknown top-level field", |document| {
            document["colour"] = json!("red")
        }),
        ("an unknown field in a transcript entry", |document| {
            document["submissions"][0]["scenarios"][2]["transcript"]["entries"][0]["note"] =
                json!(1)
        }),
        ("a status word the schema does not name", |document| {
            document["submissions"][0]["scenarios"][0]["status"] = json!("PASS")
        }),
        ("a required field missing", |document| {
            document["submissions"][0]["scenarios"][0]
                .as_object_mut()
                .unwrap()
                .remove("replay");
        }),
        ("another schema version", |document| {
            document["schema_version"] = json!(1)
        }),
        ("a kind of skip the schema does not name", |document| {
            document["submissions"][0]["scenarios"][0]["skip_kind"] = json!("no-browser")
        }),
        ("a number where a string goes", |document| {
            document["submissions"][0]["label"] = json!(7)
        }),
        ("bytes that are not base64", |document| {
            document["submissions"][0]["scenarios"][2]["programs"][0]["stdout"]["head"]["base64"] =
                json!("not base64!")
        }),
    ];
    for (what, break_it) in broken {
        let mut copy = document.clone();
        break_it(&mut copy);
        assert!(
            violations(&copy).is_some(),
            "the schema accepts a report with {what}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// A made-up batch holding every verdict, with a submission that could not be read.

fn outcome(id: &str, status: Status) -> Outcome {
    let mut outcome = Outcome::blank(id);
    outcome.task = id.split('/').next().unwrap().into();
    outcome.clauses = vec!["message/1".into()];
    outcome.category = Category::Robustness;
    outcome.points = 3;
    outcome.requirement = "The server prints exactly the bytes received.\nSecond line.".into();
    outcome.status = status;
    outcome.duration = Duration::from_micros(310_250);
    outcome.seed = 42;
    if status.is_failure() || status == Status::Missed {
        outcome.failure = Some(Failure {
            step: 4,
            line: 17,
            action: "check server's stdout".into(),
            expected: "server's stdout to be exactly the 11 bytes c1 sent".into(),
            seen: "27 bytes, differing from byte 0 on".into(),
            diff: Some("first difference at byte 0".into()),
            cause: Some(
                "client exited with status 1 after 0.05s; its stderr ends with: \"Traceback\""
                    .into(),
            ),
        });
    }
    if status == Status::Skipped {
        outcome.duration = Duration::ZERO;
        outcome.skip_reason = Some("message-client not submitted".into());
        outcome.skip_kind = Some(SkipKind::NotSubmitted);
    }
    outcome.log = vec![LogLine {
        at: Duration::from_millis(120),
        text: "server listens on port 20001".into(),
    }];
    outcome.transcript = (
        vec![
            TranscriptEntry {
                connection: "c1".into(),
                direction: Direction::ToProgram,
                first: Duration::from_millis(130),
                last: Duration::from_millis(131),
                bytes: 4000,
                pieces: 2,
                head: vec![0xff, 0x00, b'a', b'\n', 0xe2, 0x82],
                event: None,
            },
            TranscriptEntry {
                connection: "c1".into(),
                direction: Direction::FromProgram,
                first: Duration::from_millis(140),
                last: Duration::from_millis(140),
                bytes: 0,
                pieces: 0,
                head: Vec::new(),
                event: Some("reset".into()),
            },
        ],
        3,
    );
    outcome.programs = vec![
        ProgramReport {
            name: "server".into(),
            command_line: "python3 message-server.py 20001".into(),
            stdout: (b"Connected by 127.0.0.1\n".to_vec(), 90_000),
            stderr: (Vec::new(), 0),
            exit: Some(ExitInfo {
                kind: ExitKind::Signal(9),
                max_rss_kib: 10_240,
                after: Duration::from_millis(1200),
            }),
            stdout_tail: b"hello".to_vec(),
            stopped_by_harness: Some(HarnessStop::OutputCap {
                stream: "stdout".into(),
                cap: 64 << 20,
            }),
            ..ProgramReport::default()
        },
        ProgramReport {
            name: "client".into(),
            command_line: "python3 message-client.py 127.0.0.1 20001".into(),
            stdout: (Vec::new(), 0),
            stderr: (b"Traceback\n".to_vec(), 10),
            exit: Some(ExitInfo {
                kind: ExitKind::Code(1),
                max_rss_kib: 9_000,
                after: Duration::from_millis(50),
            }),
            ..ProgramReport::default()
        },
    ];
    outcome
}

/// A scenario this run could not play: no browser on this machine.
fn cannot_run(id: &str) -> Outcome {
    let mut outcome = outcome(id, Status::Skipped);
    outcome.skip_reason = Some("no Chromium or Chrome on this machine".into());
    outcome.skip_kind = Some(SkipKind::CannotRun);
    outcome
}

/// Every verdict of one submission, both kinds of skip: two tasks, one of them with
/// extras.
fn every_verdict() -> Vec<Outcome> {
    let mut extra_earned = outcome("web-proxy/09-cache", Status::Pass);
    extra_earned.extra = true;
    let mut extra_missed = outcome("web-proxy/10-more-cache", Status::Missed);
    extra_missed.extra = true;
    let mut killed = outcome("message/04-timeout", Status::Timeout);
    killed.programs[0].exit = None;
    vec![
        outcome("message/01-pass", Status::Pass),
        outcome("message/02-fail", Status::Fail),
        outcome("message/03-error", Status::Error),
        killed,
        outcome("message/05-skipped", Status::Skipped),
        cannot_run("message/06-no-browser"),
        outcome("web-proxy/01-pass", Status::Pass),
        extra_earned,
        extra_missed,
    ]
}

/// The events of a run grading `submissions` (label, outcomes, problem), as the batch
/// grader emits them.
fn made_up_run(
    submissions: &[(&str, Vec<Outcome>, Option<&str>)],
    not_submitted: &[&str],
) -> Vec<Event> {
    let mut events = vec![Event::RunStarted(RunInfo {
        record_version: RECORD_VERSION,
        harness_version: "0.1.0".into(),
        seed: 42,
        repeat: 1,
        world: WorldKind::Real,
        replay_command: "harness --target 'subs/*'".into(),
        submissions: submissions
            .iter()
            .map(|(label, ..)| label.to_string())
            .collect(),
        jobs: 2,
        isolation: Isolation::NetworkNamespace,
        sandbox: None,
        sandbox_not_here: Vec::new(),
        servers: Vec::new(),
        started_unix_ms: 1_793_785_447_123,
    })];
    for (label, outcomes, problem) in submissions {
        events.push(Event::SubmissionStarted(SubmissionInfo {
            submission: label.to_string(),
            replay_command: format!("harness --target {label}"),
            scenarios: outcomes.len(),
            not_submitted: not_submitted.iter().map(|task| task.to_string()).collect(),
            not_submitted_points: not_submitted
                .iter()
                .map(|task| (task.to_string(), 5))
                .collect(),
            problem: problem.map(String::from),
        }));
        for outcome in outcomes {
            events.push(verdict(label, outcome.clone()));
        }
        events.push(Event::SubmissionFinished {
            submission: label.to_string(),
            elapsed: Duration::from_millis(2500),
        });
    }
    events.push(Event::RunFinished {
        elapsed: Duration::from_millis(5100),
    });
    events
}

/// Plays `events` into the three reports; returns the run and each file's text.
fn report(events: Vec<Event>) -> (RunRecord, String, String, std::io::Result<String>) {
    let out = tempfile::tempdir().unwrap();
    let path = |name: &str| out.path().join(name);
    let mut reporters = Reporters::new();
    reporters.add("json", json::report(path("report.json")));
    reporters.add("junit", junit::report(path("junit.xml")));
    for event in events {
        reporters.emit(event);
    }
    let run = reporters.finish().expect("json and junit are written");
    let gradescope = harness::report::gradescope::render(&run);
    let read = |name: &str| std::fs::read_to_string(path(name)).unwrap();
    (run, read("report.json"), read("junit.xml"), gradescope)
}

fn batch_events() -> Vec<Event> {
    made_up_run(
        &[
            ("subs/alice", every_verdict(), None),
            (
                "subs/bob",
                Vec::new(),
                Some("subs/bob/submission.toml:3: unknown key `sever`"),
            ),
        ],
        &["udp-pinger"],
    )
}

#[test]
fn every_verdict_and_a_broken_submission_follow_the_schema() {
    let (run, json, _, _) = report(batch_events());
    let document: Value = serde_json::from_str(&json).unwrap();
    assert_valid(&document);
    assert_eq!(document["isolation"], "network-namespace");
    assert_eq!(document["elapsed_ms"], 5100.0);
    let alice = &document["submissions"][0];
    let words: BTreeSet<&str> = alice["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scenario| scenario["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        words,
        BTreeSet::from(["pass", "fail", "error", "timeout", "skipped", "missed"])
    );
    let timeout = &alice["scenarios"][3];
    assert!(
        timeout["programs"][0]["exit"].is_null(),
        "killed at the end"
    );
    assert_eq!(
        alice["scenarios"][1]["programs"][0]["exit"],
        json!({
            "kind": "signal", "value": 9, "description": "killed by signal 9 (SIGKILL)",
            "after_ms": 1200.0, "max_rss_kib": 10240
        })
    );
    assert_eq!(alice["scenarios"][0]["duration_ms"], 310.25);
    // Bytes that are not UTF-8: `\xNN` in the text (never a replacement character), exact
    // in base64; a control character but newline and tab escaped in the text.
    let head = &alice["scenarios"][0]["transcript"]["entries"][0]["head"];
    assert_eq!(head["text"], "\\xff\\x00a\n\\xe2\\x82");
    assert_eq!(head["base64"], "/wBhCuKC");
    assert_eq!(head["bytes"], 6);
    assert_eq!(alice["scenarios"][0]["transcript"]["left_out"], 3);
    // In a batch, each submission's captures are in a folder of their own.
    assert_eq!(
        alice["scenarios"][0]["capture"],
        "subs_alice/message/01-pass.pcap"
    );
    assert_eq!(
        alice["scenarios"][0]["replay"],
        "harness --target subs/alice --seed 42 'message/01-pass'"
    );
    assert_eq!(alice["not_submitted"], json!(["udp-pinger"]));
    let score = Score::of(&run.submissions[0].outcomes);
    assert_eq!(alice["score"]["earned"], score.earned);
    assert_eq!(alice["score"]["extra"], score.extra_earned);
    assert_eq!(alice["score"]["tasks"][1]["has_extra"], true);
    let bob = &document["submissions"][1];
    assert_eq!(
        bob["problem"],
        "subs/bob/submission.toml:3: unknown key `sever`"
    );
    assert_eq!(bob["scenarios"], json!([]));

    // Both kinds of skip, told apart, and counted apart: 3 points each, message/06 (no
    // browser) out of the total, message/05 (no client program) in it.
    let kinds: Vec<(&str, &Value)> = alice["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scenario| (scenario["id"].as_str().unwrap(), &scenario["skip_kind"]))
        .filter(|(_, kind)| !kind.is_null())
        .collect();
    assert_eq!(
        kinds,
        [
            ("message/05-skipped", &json!("not-submitted")),
            ("message/06-no-browser", &json!("cannot-run"))
        ]
    );
    assert_eq!(alice["score"]["tasks"][0]["total"], 15);
    assert_eq!(alice["score"]["tasks"][0]["left_out"], 3);
    assert_eq!(alice["score"]["left_out"], 3);
    assert_eq!(
        alice["score"]["total"], 18,
        "message 01-05 and web-proxy/01"
    );
    assert_eq!(
        alice["score"]["maximum"], 23,
        "and udp-pinger, not submitted"
    );
}

// ---------------------------------------------------------------------------------------
// JUnit

fn attribute<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no `{name}`", node.tag_name().name()))
}

fn children<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    tag: &str,
) -> Vec<roxmltree::Node<'a, 'input>> {
    node.children()
        .filter(|child| child.has_tag_name(tag))
        .collect()
}

fn property(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    children(node, "properties")
        .into_iter()
        .flat_map(|properties| children(properties, "property"))
        .find(|property| property.attribute("name") == Some(name))
        .map(|property| attribute(property, "value").to_owned())
}

#[test]
fn junit_report_has_a_suite_per_task_and_a_case_per_scenario() {
    let graded = graded();
    let xml = roxmltree::Document::parse(&graded.junit).expect("--junit writes XML");
    let root = xml.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attribute(root, "tests"), "5");
    assert_eq!(attribute(root, "failures"), "2");
    assert_eq!(attribute(root, "errors"), "0");
    assert_eq!(attribute(root, "skipped"), "0");
    assert!(attribute(root, "time").parse::<f64>().unwrap() > 0.0);

    let suites = children(root, "testsuite");
    assert_eq!(suites.len(), 1, "one task graded");
    let suite = suites[0];
    assert_eq!(attribute(suite, "name"), "message");
    assert_eq!(property(suite, "seed").as_deref(), Some("1"));
    assert_eq!(property(suite, "world").as_deref(), Some("real"));
    assert_eq!(property(suite, "points").as_deref(), Some("2/6 (+2 extra)"));
    assert!(suite.attribute("timestamp").is_some());

    let cases = children(suite, "testcase");
    let names: Vec<&str> = cases.iter().map(|case| attribute(*case, "name")).collect();
    let ids: Vec<&str> = GRADED.iter().map(|(id, _)| *id).collect();
    assert_eq!(names, ids);
    for case in &cases {
        assert_eq!(attribute(*case, "classname"), "message");
        assert!(attribute(*case, "time").parse::<f64>().unwrap() > 0.0);
        assert_eq!(property(*case, "seed").as_deref(), Some("1"));
    }
    for (case, (id, word)) in cases.iter().zip(GRADED) {
        let failures = children(*case, "failure");
        if *word == "fail" {
            assert_eq!(failures.len(), 1, "{id}");
            let failure = failures[0];
            assert_eq!(attribute(failure, "type"), "fail");
            let message = attribute(failure, "message");
            // The failure's first sentence, then its clauses and what was expected.
            assert!(
                message.starts_with("Your ") && message.contains("(message/"),
                "{message}"
            );
            assert!(message.contains(": expected "), "{message}");
            assert!(message.contains(" / seen "), "{message}");
            let body = failure.text().unwrap_or_default();
            for part in ["requirement", "expected", "seen", "step log", "program"] {
                assert!(body.contains(part), "{id}: no {part} in\n{body}");
            }
            assert!(
                body.contains(&format!(
                    "(replay: {} --seed 1 '{id}')",
                    graded.replay_command
                )),
                "{body}"
            );
        } else {
            assert!(failures.is_empty(), "{id} is not a failure");
        }
        if *word == "missed" {
            let out = children(*case, "system-out")[0].text().unwrap();
            assert!(out.starts_with("extra scenario not earned"), "{out}");
            assert!(out.contains("first difference at byte"), "{out}");
        }
    }
    let binary = cases[2];
    assert!(
        children(binary, "failure")[0]
            .text()
            .unwrap()
            .contains("first difference at byte")
    );
}

#[test]
fn junit_report_of_a_batch_names_suites_by_submission_and_marks_errors_and_skips() {
    let (_, _, junit, _) = report(batch_events());
    let xml = roxmltree::Document::parse(&junit).unwrap();
    let root = xml.root_element();
    assert_eq!(attribute(root, "errors"), "2", "message/03-error and bob");
    assert_eq!(attribute(root, "failures"), "2", "fail and timeout");
    assert_eq!(attribute(root, "skipped"), "2", "both kinds of skip");
    let suites: Vec<&str> = children(root, "testsuite")
        .into_iter()
        .map(|suite| attribute(suite, "name"))
        .collect();
    assert_eq!(
        suites,
        [
            "subs/alice: message",
            "subs/alice: web-proxy",
            "subs/alice: udp-pinger",
            "subs/bob: submission",
            "subs/bob: udp-pinger",
        ]
    );
    let case = |name: &str| {
        xml.descendants()
            .find(|node| node.has_tag_name("testcase") && node.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}"))
    };
    assert_eq!(
        attribute(case("message/01-pass"), "classname"),
        "subs/alice: message"
    );
    let error = children(case("message/03-error"), "error")[0];
    assert_eq!(attribute(error, "type"), "error");
    let timeout = children(case("message/04-timeout"), "failure")[0];
    assert_eq!(attribute(timeout, "type"), "timeout");
    let skipped = children(case("message/05-skipped"), "skipped")[0];
    assert_eq!(
        attribute(skipped, "message"),
        "message-client not submitted (3 points lost: the scenario needs that program)"
    );
    let not_here = children(case("message/06-no-browser"), "skipped")[0];
    assert_eq!(
        attribute(not_here, "message"),
        "no Chromium or Chrome on this machine (not counted: this grading could not run it, \
         so the maximum leaves out its 3 points)"
    );
    let missed = case("web-proxy/10-more-cache");
    assert!(children(missed, "failure").is_empty() && children(missed, "skipped").is_empty());
    let problem = children(case("submission"), "error")[0];
    assert_eq!(attribute(problem, "type"), "problem");
    assert!(attribute(problem, "message").contains("unknown key `sever`"));
    let not_submitted = xml
        .descendants()
        .find(|node| node.attribute("name") == Some("subs/alice: udp-pinger"))
        .unwrap();
    assert!(children(not_submitted, "testcase").is_empty());
    assert!(
        children(not_submitted, "system-out")[0]
            .text()
            .unwrap()
            .contains("not submitted")
    );
}

// ---------------------------------------------------------------------------------------
// Gradescope

/// The fields Gradescope's autograder specification documents, top level and per test.
const TOP_LEVEL_FIELDS: &[&str] = &[
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
];
const TEST_FIELDS: &[&str] = &[
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
];
const VISIBILITIES: &[&str] = &["hidden", "after_due_date", "after_published", "visible"];
const FORMATS: &[&str] = &["text", "simple_format", "html", "md", "ansi"];

/// Checks `results` against Gradescope's documented format; returns its tests.
fn check_gradescope_format(results: &Value) -> &Vec<Value> {
    let top = results.as_object().expect("an object");
    for key in top.keys() {
        assert!(
            TOP_LEVEL_FIELDS.contains(&key.as_str()),
            "`{key}` is not a field of Gradescope's results.json"
        );
    }
    assert!(results["score"].is_f64(), "score is a number");
    assert!(results["execution_time"].is_u64(), "seconds");
    assert!(results["output"].is_string());
    assert!(FORMATS.contains(&results["output_format"].as_str().unwrap()));
    assert!(VISIBILITIES.contains(&results["visibility"].as_str().unwrap()));
    assert!(VISIBILITIES.contains(&results["stdout_visibility"].as_str().unwrap()));
    assert!(results["extra_data"].is_object());
    let tests = results["tests"].as_array().expect("tests is an array");
    for test in tests {
        for key in test.as_object().unwrap().keys() {
            assert!(
                TEST_FIELDS.contains(&key.as_str()),
                "`{key}` is not a field of a Gradescope test"
            );
        }
        for key in ["score", "max_score"] {
            assert!(test.get(key).is_none_or(Value::is_f64), "{key}: {test:#}");
        }
        // A test not run here has no status (Gradescope shows it neither way).
        assert!(
            test.get("status")
                .is_none_or(|status| ["passed", "failed"].contains(&status.as_str().unwrap()))
        );
        assert!(test["name"].is_string() && test["number"].is_string());
        assert!(test["output"].is_string());
        assert!(FORMATS.contains(&test["output_format"].as_str().unwrap()));
        assert!(FORMATS.contains(&test["name_format"].as_str().unwrap()));
        assert!(VISIBILITIES.contains(&test["visibility"].as_str().unwrap()));
        assert!(
            test["tags"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(test["extra_data"].is_object());
    }
    tests
}

#[test]
fn gradescope_results_of_a_real_grading_follow_the_autograder_format() {
    let graded = graded();
    let results: Value = serde_json::from_str(&graded.gradescope).unwrap();
    let tests = check_gradescope_format(&results);
    let outcomes = &graded.run.submissions[0].outcomes;
    assert_eq!(tests.len(), outcomes.len(), "one test per scenario");
    let score = Score::of(outcomes);
    assert_eq!(
        results["score"].as_f64().unwrap(),
        f64::from(score.earned + score.extra_earned)
    );
    let sum: f64 = tests
        .iter()
        .map(|test| test["score"].as_f64().unwrap())
        .sum();
    assert_eq!(sum, results["score"].as_f64().unwrap());
    let max: f64 = tests
        .iter()
        .map(|test| test["max_score"].as_f64().unwrap())
        .sum();
    assert_eq!(
        max,
        f64::from(score.total),
        "extras are outside the maximum"
    );
    for (test, outcome) in tests.iter().zip(outcomes) {
        let name = test["name"].as_str().unwrap();
        assert!(name.starts_with(&format!("{}: ", outcome.id)), "{name}");
        let passed = outcome.status == Status::Pass;
        let points = f64::from(outcome.points);
        let max_score = if outcome.extra { 0.0 } else { points };
        assert_eq!(test["max_score"].as_f64().unwrap(), max_score, "{name}");
        assert_eq!(
            test["score"].as_f64().unwrap(),
            if passed { points } else { 0.0 },
            "{name}"
        );
        assert_eq!(test["status"], if passed { "passed" } else { "failed" });
        assert_eq!(name.ends_with(" (extra credit)"), outcome.extra);
        assert!(
            test["output"].as_str().unwrap().contains(&format!(
                "{} --seed 1 '{}'",
                graded.replay_command, outcome.id
            )),
            "every test says how to replay it: {}",
            test["output"]
        );
    }
    let numbers: Vec<&str> = tests
        .iter()
        .map(|test| test["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1.1", "1.2", "1.3", "1.4", "1.5"]);
    let binary = tests[2]["output"].as_str().unwrap();
    assert!(binary.contains("first difference at byte"), "{binary}");
    let missed = tests[4]["output"].as_str().unwrap();
    // Markdown: the first sentence in bold, then the details in a fenced block.
    assert!(missed.starts_with("**Your server "), "{missed}");
    assert!(missed.contains("Extra credit, not earned"), "{missed}");
    let overall = results["output"].as_str().unwrap();
    assert!(
        overall.contains("2 passed, 2 failed, 1 extra missed"),
        "{overall}"
    );
}

#[test]
fn gradescope_keeps_a_missing_program_in_the_maximum_and_leaves_out_what_cannot_run() {
    let (run, _, _, _) = report(made_up_run(
        &[("subs/alice", every_verdict(), None)],
        &["udp-pinger"],
    ));
    let results: Value =
        serde_json::from_str(&harness::report::gradescope::render(&run).unwrap()).unwrap();
    let tests = check_gradescope_format(&results);
    let by_name = |id: &str| {
        tests
            .iter()
            .find(|test| test["name"].as_str().unwrap().starts_with(id))
            .unwrap_or_else(|| panic!("no test {id}"))
    };
    // 3 points each: message/01 and web-proxy/01 earned, the extra web-proxy/09 earned.
    assert_eq!(results["score"], 9.0);
    let skipped = by_name("message/05-skipped");
    assert_eq!(
        (skipped["score"].as_f64(), skipped["max_score"].as_f64()),
        (Some(0.0), Some(3.0)),
        "a program the submission lacks: its points are lost"
    );
    let output = skipped["output"].as_str().unwrap();
    assert!(output.contains("message-client not submitted"), "{output}");
    assert!(output.contains("3 points lost"), "{output}");
    let not_here = by_name("message/06-no-browser");
    // No browser here: out of the maximum, and neither passed nor failed (no score, no
    // maximum, no status: never a red 0/0).
    assert!(
        not_here.get("score").is_none()
            && not_here.get("max_score").is_none()
            && not_here.get("status").is_none(),
        "{not_here}"
    );
    assert!(
        not_here["name"]
            .as_str()
            .unwrap()
            .ends_with("(not run here)")
    );
    let output = not_here["output"].as_str().unwrap();
    assert!(output.contains("no Chromium or Chrome"), "{output}");
    assert!(output.contains("not counted"), "{output}");
    assert_eq!(not_here["extra_data"]["skip_kind"], "cannot-run");
    let earned = by_name("web-proxy/09-cache");
    assert_eq!(
        (earned["score"].as_f64(), earned["max_score"].as_f64()),
        (Some(3.0), Some(0.0))
    );
    assert_eq!(earned["status"], "passed");
    let missed = by_name("web-proxy/10-more-cache");
    assert_eq!(
        (missed["score"].as_f64(), missed["max_score"].as_f64()),
        (Some(0.0), Some(0.0))
    );
    assert_eq!(missed["status"], "failed");
    assert_eq!(by_name("message/04-timeout")["status"], "failed");
    // The run said what the task with no program was worth: its points are lost too.
    let not_submitted = by_name("udp-pinger: not submitted");
    assert_eq!(
        (
            not_submitted["score"].as_f64(),
            not_submitted["max_score"].as_f64()
        ),
        (Some(0.0), Some(5.0))
    );
    assert_eq!(not_submitted["status"], "failed");
    let max: f64 = tests
        .iter()
        .filter_map(|test| test["max_score"].as_f64())
        .sum();
    // message 01-05 and web-proxy/01 (3 each) and udp-pinger (5); 06 is left out.
    assert_eq!(max, 23.0);
    assert_eq!(results["extra_data"]["maximum"], 23);
    assert_eq!(results["extra_data"]["left_out"], 3);
    assert_eq!(results["execution_time"], 3, "2.5 s, rounded up");
    let numbers: Vec<&str> = tests
        .iter()
        .map(|test| test["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "3.1"
        ]
    );
}

#[test]
fn gradescope_refuses_a_run_of_several_submissions() {
    let (_, _, _, gradescope) = report(batch_events());
    let error = gradescope.expect_err("results.json describes one submission");
    assert!(error.to_string().contains("graded 2"), "{error}");
}

// ---------------------------------------------------------------------------------------
// The command line

#[test]
fn all_three_reports_are_written_at_once_beside_the_terminal_report() {
    let out = tempfile::tempdir().unwrap();
    let file = |name: &str| -> PathBuf { out.path().join(name) };
    let output = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(common::kit_root())
        .env("NO_COLOR", "1")
        .args([
            "--target",
            "fixtures/submissions/sample",
            "--seed",
            "1",
            "message/01-*",
            "message/06-*",
        ])
        .arg("--json")
        .arg(file("report.json"))
        .arg("--junit")
        .arg(file("junit.xml"))
        .arg("--gradescope")
        .arg(file("results.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "06 fails:\n{stdout}");
    assert!(stdout.contains("── FAIL message/06-binary"), "{stdout}");
    assert!(
        stdout.lines().any(|line| line == "1 passed, 1 failed"),
        "{stdout}"
    );

    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(file("report.json")).unwrap()).unwrap();
    assert_valid(&document);
    assert_eq!(
        document["submissions"][0]["scenarios"][1]["replay"],
        "harness --target fixtures/submissions/sample --seed 1 'message/06-binary'"
    );
    let junit = std::fs::read_to_string(file("junit.xml")).unwrap();
    let xml = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(attribute(xml.root_element(), "tests"), "2");
    assert_eq!(attribute(xml.root_element(), "failures"), "1");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(file("results.json")).unwrap()).unwrap();
    let tests = check_gradescope_format(&results);
    assert_eq!(tests.len(), 2);
    assert_eq!(results["score"], 2.0);
}

// ---------------------------------------------------------------------------------------
// PrairieLearn

/// The fields of PrairieLearn's external-grader results ("Grading results"), top level and
/// per test.
const PL_FIELDS: &[&str] = &[
    "gradable",
    "score",
    "message",
    "output",
    "format_errors",
    "images",
    "tests",
];
const PL_TEST_FIELDS: &[&str] = &[
    "name",
    "description",
    "points",
    "max_points",
    "message",
    "output",
    "images",
];

/// Checks `results` against PrairieLearn's documented format; returns its tests.
fn check_prairielearn_format(results: &Value) -> &Vec<Value> {
    for key in results.as_object().expect("an object").keys() {
        assert!(
            PL_FIELDS.contains(&key.as_str()),
            "`{key}` is not a field of PrairieLearn's results.json"
        );
    }
    let gradable = results["gradable"]
        .as_bool()
        .expect("gradable is a boolean");
    if gradable {
        let score = results["score"]
            .as_f64()
            .expect("a gradable result has a score");
        assert!((0.0..=1.0).contains(&score), "score {score} is a fraction");
    } else {
        assert!(!results["format_errors"].as_array().unwrap().is_empty());
    }
    assert!(results["message"].is_string() && results["output"].is_string());
    let tests = results["tests"].as_array().expect("tests is an array");
    for test in tests {
        for key in test.as_object().unwrap().keys() {
            assert!(
                PL_TEST_FIELDS.contains(&key.as_str()),
                "`{key}` is not a field of a PrairieLearn test"
            );
        }
        for key in ["name", "description", "message", "output"] {
            assert!(test[key].is_string(), "{key}: {test:#}");
        }
        for key in ["points", "max_points"] {
            assert!(
                test[key].as_f64().is_some_and(|n| n >= 0.0),
                "{key}: {test:#}"
            );
        }
    }
    tests
}

#[test]
fn prairielearn_results_of_a_real_grading_follow_the_external_grader_format() {
    let graded = graded();
    let results: Value = serde_json::from_str(&graded.prairielearn).unwrap();
    let tests = check_prairielearn_format(&results);
    assert_eq!(results["gradable"], true);
    // 01 earned (2 of 6), and the extra 90 (2) makes up for part of what 02 and 06 lost.
    let score = results["score"].as_f64().unwrap();
    assert!((score - 4.0 / 6.0).abs() < 1e-9, "{score}");
    let names: Vec<&str> = tests
        .iter()
        .map(|test| test["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "message/01-text-20k",
            "message/02-client-sends-stdin",
            "message/06-binary",
            "message/90-extra-text (extra credit)",
            "message/91-extra-binary (extra credit)"
        ]
    );
    let sum = |key: &str| -> f64 { tests.iter().map(|test| test[key].as_f64().unwrap()).sum() };
    assert_eq!(sum("max_points"), 6.0, "extras are outside the maximum");
    assert_eq!(sum("points"), 4.0, "what was earned, the extra included");
    let binary = &tests[2];
    assert_eq!(
        (binary["points"].as_f64(), binary["max_points"].as_f64()),
        (Some(0.0), Some(2.0))
    );
    assert!(
        binary["message"]
            .as_str()
            .unwrap()
            .contains(" (fail at step "),
        "{binary:#}"
    );
    let output = binary["output"].as_str().unwrap();
    assert!(output.contains("first difference at byte"), "{output}");
    assert!(
        output.contains(&format!(
            "{} --seed 1 'message/06-binary'",
            graded.replay_command
        )),
        "{output}"
    );
    assert!(
        binary["description"]
            .as_str()
            .unwrap()
            .starts_with("Binary"),
        "the requirement: {binary:#}"
    );
    assert!(
        tests[4]["message"]
            .as_str()
            .unwrap()
            .starts_with("extra credit not earned")
    );
    let message = results["message"].as_str().unwrap();
    assert_eq!(
        message,
        "2/6 points (+2 extra): 2 passed, 2 failed, 1 extra missed"
    );
    assert!(results["output"].as_str().unwrap().contains("message: "));
}

#[test]
fn prairielearn_caps_the_score_and_counts_what_was_not_submitted() {
    let (run, _, _, _) = report(made_up_run(
        &[("subs/alice", every_verdict(), None)],
        &["udp-pinger"],
    ));
    let results: Value = serde_json::from_str(&prairielearn::render(&run).unwrap()).unwrap();
    let tests = check_prairielearn_format(&results);
    // 9 earned (6 + 3 extra) of 23: message 01-05 (15), web-proxy/01 (3), udp-pinger (5).
    let score = results["score"].as_f64().unwrap();
    assert!((score - 9.0 / 23.0).abs() < 1e-9, "{score}");
    let max: f64 = tests
        .iter()
        .map(|test| test["max_points"].as_f64().unwrap())
        .sum();
    assert_eq!(max, 23.0);
    let by_name = |name: &str| {
        tests
            .iter()
            .find(|test| test["name"] == name)
            .unwrap_or_else(|| panic!("no test {name}"))
    };
    let not_here = by_name("message/06-no-browser (not run here)");
    assert_eq!(not_here["max_points"], 0.0);
    let message = not_here["message"].as_str().unwrap();
    assert!(message.starts_with("skipped: no Chromium"), "{message}");
    assert!(message.contains("not counted"), "{message}");
    assert_eq!(by_name("message/05-skipped")["max_points"], 3.0);
    assert_eq!(by_name("udp-pinger: not submitted")["max_points"], 5.0);
    assert!(
        results["message"]
            .as_str()
            .unwrap()
            .contains("3 points not counted")
    );

    // Extra credit makes up for lost points, up to full marks and no further.
    let mut all_passed: Vec<Outcome> = every_verdict()
        .into_iter()
        .filter(|outcome| outcome.status == Status::Pass)
        .collect();
    let mut bonus = outcome("web-proxy/11-bonus", Status::Pass);
    bonus.extra = true;
    all_passed.push(bonus);
    let (run, _, _, _) = report(made_up_run(&[("subs/alice", all_passed, None)], &[]));
    let results: Value = serde_json::from_str(&prairielearn::render(&run).unwrap()).unwrap();
    assert_eq!(results["score"], 1.0);

    // Nothing that counts could run here: no grade, and no attempt charged.
    let (run, _, _, _) = report(made_up_run(
        &[(
            "subs/alice",
            vec![cannot_run("web-server/14-browser")],
            None,
        )],
        &[],
    ));
    let results: Value = serde_json::from_str(&prairielearn::render(&run).unwrap()).unwrap();
    let tests = check_prairielearn_format(&results);
    assert_eq!(results["gradable"], false);
    assert!(
        results["format_errors"][0]
            .as_str()
            .unwrap()
            .contains("can run on this grader")
    );
    assert_eq!(
        tests.len(),
        1,
        "the skipped scenario is still shown, with why"
    );

    // A batch is no one submission.
    let (run, _, _, _) = report(batch_events());
    let error = prairielearn::render(&run).expect_err("one submission per results.json");
    assert!(error.to_string().contains("graded 2"), "{error}");
}

// ---------------------------------------------------------------------------------------
// GitHub Classroom

/// Checks `result` against what `autograding-grading-reporter` reads; returns its tests.
fn check_classroom_format(result: &Value) -> &Vec<Value> {
    let keys: BTreeSet<&str> = result
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["version", "status", "max_score", "tests"])
    );
    assert_eq!(result["version"], 1);
    assert!(["pass", "fail", "error"].contains(&result["status"].as_str().unwrap()));
    assert!(result["max_score"].is_u64());
    let tests = result["tests"].as_array().expect("tests is an array");
    for test in tests {
        let keys: BTreeSet<&str> = test
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "name",
                "status",
                "score",
                "message",
                "test_code",
                "filename",
                "line_no",
                "duration"
            ]),
            "{test:#}"
        );
        assert!(["pass", "fail", "error"].contains(&test["status"].as_str().unwrap()));
        assert!(test["score"].is_u64() && test["duration"].is_u64());
        // Anything but 0 is printed after the name as ` - line N`.
        assert_eq!(test["line_no"], 0);
    }
    tests
}

#[test]
fn github_classroom_result_of_a_real_grading_is_what_the_reporter_reads() {
    let graded = graded();
    let result: Value = serde_json::from_str(&graded.classroom).unwrap();
    let tests = check_classroom_format(&result);
    assert_eq!(result["status"], "fail", "02 and 06 lost points");
    assert_eq!(result["max_score"], 6);
    // The reporter sends `Points <sum of scores>/<max_score>`: 2 earned and 2 extra.
    let points: u64 = tests
        .iter()
        .map(|test| test["score"].as_u64().unwrap())
        .sum();
    assert_eq!(points, 4);
    let statuses: Vec<(&str, &str)> = tests
        .iter()
        .map(|test| {
            (
                test["name"].as_str().unwrap().split(':').next().unwrap(),
                test["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("message/01-text-20k", "pass"),
            ("message/02-client-sends-stdin", "fail"),
            ("message/06-binary", "fail"),
            ("message/90-extra-text", "pass"),
            ("message/91-extra-binary", "fail"),
        ]
    );
    for (test, (id, _)) in tests.iter().zip(GRADED) {
        assert_eq!(
            test["test_code"],
            format!("{} --seed 1 '{id}'", graded.replay_command),
            "the command that replays it is the test's code"
        );
    }
    // The failure's first sentence, then the verdict, the step and what was seen.
    let message = tests[2]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Your server ") && message.contains(" (fail at step "),
        "{message}"
    );
    assert!(
        tests[4]["name"]
            .as_str()
            .unwrap()
            .ends_with("(extra credit)")
    );
}

#[test]
fn github_classroom_marks_what_cannot_run_as_an_error_out_of_max_score() {
    let (run, _, _, _) = report(made_up_run(
        &[("subs/alice", every_verdict(), None)],
        &["udp-pinger"],
    ));
    let result: Value = serde_json::from_str(&classroom::render(&run).unwrap()).unwrap();
    let tests = check_classroom_format(&result);
    assert_eq!(result["max_score"], 23);
    let by_id = |id: &str| {
        tests
            .iter()
            .find(|test| test["name"].as_str().unwrap().starts_with(id))
            .unwrap_or_else(|| panic!("no test {id}"))
    };
    let not_here = by_id("message/06-no-browser");
    // Neither `fail` nor `error` (both a red cross): `pass` with no points, said so.
    assert_eq!(not_here["status"], "pass");
    assert_eq!(not_here["score"], 0);
    assert!(
        not_here["name"]
            .as_str()
            .unwrap()
            .ends_with("(not run here)")
    );
    let message = not_here["message"].as_str().unwrap();
    assert!(message.starts_with("skipped: no Chromium"), "{message}");
    assert!(message.contains("not counted"), "{message}");
    let missing = by_id("message/05-skipped");
    assert_eq!(
        (missing["status"].as_str(), missing["score"].as_u64()),
        (Some("fail"), Some(0))
    );
    assert_eq!(by_id("udp-pinger: not submitted")["status"], "fail");
    assert_eq!(
        by_id("web-proxy/09-cache")["score"],
        3,
        "extra credit adds up"
    );
    let (run, _, _, _) = report(batch_events());
    assert!(
        classroom::render(&run).is_err(),
        "one repository per result"
    );
}

// ---------------------------------------------------------------------------------------
// Gradescope's visibility and tags

#[test]
fn gradescope_visibility_comes_from_the_scenario_file_then_the_command_line() {
    use harness::outcome::Visibility;
    use harness::report::gradescope::VisibilityRule;
    let mut outcomes = every_verdict();
    outcomes[1].category = Category::Security;
    outcomes[1].visibility = Some(Visibility::Hidden);
    outcomes[2].visibility = Some(Visibility::AfterPublished);
    let (run, _, _, _) = report(made_up_run(&[("subs/alice", outcomes, None)], &[]));
    let visibility_of = |rules: &[&str]| -> BTreeMap<String, String> {
        let rules: Vec<VisibilityRule> = rules
            .iter()
            .map(|rule| VisibilityRule::parse(rule).unwrap())
            .collect();
        let results: Value =
            serde_json::from_str(&gradescope::render_with(&run, &rules).unwrap()).unwrap();
        check_gradescope_format(&results)
            .iter()
            .map(|test| {
                let name = test["name"].as_str().unwrap();
                (
                    name.split(':').next().unwrap().to_owned(),
                    test["visibility"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let files_only = visibility_of(&[]);
    assert_eq!(files_only["message/01-pass"], "visible", "the default");
    assert_eq!(files_only["message/02-fail"], "hidden", "its file says so");
    assert_eq!(files_only["message/03-error"], "after_published");
    let ruled = visibility_of(&[
        "robustness=after_due_date",
        "web-proxy/09*=hidden",
        "message/03-error=visible",
    ]);
    assert_eq!(ruled["message/01-pass"], "after_due_date", "by category");
    assert_eq!(
        ruled["message/02-fail"], "hidden",
        "security: no rule, its file"
    );
    assert_eq!(
        ruled["message/03-error"], "visible",
        "the last rule wins over its file"
    );
    assert_eq!(ruled["web-proxy/09-cache"], "hidden", "a later rule wins");
    assert_eq!(ruled["web-proxy/01-pass"], "after_due_date");
    let by_task = visibility_of(&["web-proxy=hidden"]);
    assert_eq!(
        by_task["web-proxy/01-pass"], "hidden",
        "a task is all of it"
    );
    assert_eq!(by_task["message/01-pass"], "visible");

    // Every test carries its task, its category and its clauses as tags.
    let results: Value = serde_json::from_str(&gradescope::render(&run).unwrap()).unwrap();
    let tags = &check_gradescope_format(&results)[1]["tags"];
    assert_eq!(tags, &json!(["message", "security", "message/1"]));
}

#[test]
fn visibility_rules_say_what_is_wrong_with_them() {
    use harness::report::gradescope::VisibilityRule;
    let cases = [
        ("security", "is not SELECTOR=VISIBILITY"),
        (
            "security=hiden",
            "`hiden` is not a visibility (hidden, after_due_date, after_published, visible)",
        ),
        ("=hidden", "selects nothing"),
        ("web-server/[08=hidden", "is not a scenario glob"),
    ];
    for (rule, expected) in cases {
        let error = VisibilityRule::parse(rule).expect_err(rule);
        assert!(error.contains(expected), "{rule}: {error}");
    }
    let rule = VisibilityRule::parse(" web-server/08* = after_due_date ").unwrap();
    assert!(rule.selects("web-server/08-big-file", Category::Basic));
    assert!(!rule.selects("web-server/09-x", Category::Basic));
}

// ---------------------------------------------------------------------------------------
// Skips, in every format, from the command line

/// A kit of `message/01` (the server alone), `02` (server and client) and `95`, a copy of
/// `01` that only the simulated world can run and that Gradescope shows after the due date.
fn kit_with_a_simulated_only_scenario() -> tempfile::TempDir {
    let kit = tempfile::tempdir().unwrap();
    let scenarios = kit.path().join("scenarios");
    std::fs::create_dir_all(scenarios.join("message")).unwrap();
    let source = common::kit_root().join("scenarios");
    std::fs::copy(source.join("tasks.toml"), scenarios.join("tasks.toml")).unwrap();
    std::os::unix::fs::symlink(
        common::kit_root().join("fixtures"),
        kit.path().join("fixtures"),
    )
    .unwrap();
    for name in ["01-text-20k", "02-client-sends-stdin"] {
        std::fs::copy(
            source.join(format!("message/{name}.toml")),
            scenarios.join(format!("message/{name}.toml")),
        )
        .unwrap();
    }
    let text = std::fs::read_to_string(source.join("message/01-text-20k.toml")).unwrap();
    let text = text.replacen(
        "points = 2\n",
        "points = 2\nworld = \"simulated\"\nvisibility = \"after_due_date\"\n",
        1,
    );
    assert!(text.contains("world = \"simulated\""));
    std::fs::write(scenarios.join("message/95-simulated-only.toml"), text).unwrap();
    kit
}

#[test]
fn a_scenario_that_cannot_run_here_leaves_the_maximum_in_every_format() {
    let kit = kit_with_a_simulated_only_scenario();
    // The sample's server alone: its client is missing.
    let submission = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::kit_root().join("fixtures/submissions/sample/message-server.py"),
        submission.path().join("message-server.py"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = |name: &str| -> PathBuf { out.path().join(name) };
    let output = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(common::kit_root())
        .env("NO_COLOR", "1")
        .arg("--scenarios")
        .arg(kit.path().join("scenarios"))
        .arg("--target")
        .arg(submission.path())
        .args(["--seed", "1", "--task", "message"])
        .args(["--gradescope-visibility", "message/02*=hidden"])
        .arg("--json")
        .arg(file("report.json"))
        .arg("--junit")
        .arg(file("junit.xml"))
        .arg("--gradescope")
        .arg(file("gradescope.json"))
        .arg("--prairielearn")
        .arg(file("prairielearn.json"))
        .arg("--github-classroom")
        .arg(file("classroom.json"))
        .arg("--gradebook")
        .arg(file("grades.csv"))
        .arg("--html")
        .arg(file("html"))
        .arg("--record")
        .arg(file("run.jsonl"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "nothing failed:\n{stdout}\n{stderr}"
    );
    // The terminal: both skips with their reasons; 2 of 4 points (95's 2 left out).
    assert!(
        stdout.contains("SKIP    message/02-client-sends-stdin")
            && stdout.contains("(message-client not submitted)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SKIP    message/95-simulated-only")
            && stdout.contains("only the simulated world can do"),
        "{stdout}"
    );
    assert!(
        stdout.contains("message: 1/1 scenarios passed, 2/4 points"),
        "{stdout}"
    );
    let read = |name: &str| std::fs::read_to_string(file(name)).unwrap();
    let parse = |name: &str| -> Value { serde_json::from_str(&read(name)).unwrap() };

    let document = parse("report.json");
    assert_valid(&document);
    let submission_doc = &document["submissions"][0];
    assert_eq!(
        (
            &submission_doc["score"]["earned"],
            &submission_doc["score"]["total"],
            &submission_doc["score"]["left_out"],
            &submission_doc["score"]["maximum"]
        ),
        (&json!(2), &json!(4), &json!(2), &json!(4))
    );
    let skips: Vec<(&Value, &Value)> = submission_doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scenario| (&scenario["skip_kind"], &scenario["skip_reason"]))
        .collect();
    assert_eq!(skips[1].0, "not-submitted");
    assert_eq!(skips[1].1, "message-client not submitted");
    assert_eq!(skips[2].0, "cannot-run");
    assert!(
        skips[2]
            .1
            .as_str()
            .unwrap()
            .contains("only the simulated world")
    );

    let junit = read("junit.xml");
    let xml = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(attribute(xml.root_element(), "skipped"), "2");
    let suite = children(xml.root_element(), "testsuite")[0];
    assert_eq!(property(suite, "points").as_deref(), Some("2/4"));
    assert_eq!(property(suite, "points_left_out").as_deref(), Some("2"));

    let gradescope_results = parse("gradescope.json");
    let tests = check_gradescope_format(&gradescope_results);
    let max: f64 = tests
        .iter()
        .filter_map(|test| test["max_score"].as_f64())
        .sum();
    assert_eq!(
        (gradescope_results["score"].as_f64(), max),
        (Some(2.0), 4.0)
    );
    let visibilities: Vec<&str> = tests
        .iter()
        .map(|test| test["visibility"].as_str().unwrap())
        .collect();
    assert_eq!(visibilities, ["visible", "hidden", "after_due_date"]);
    assert!(
        tests[2]["name"]
            .as_str()
            .unwrap()
            .ends_with("(not run here)")
    );

    let pl = parse("prairielearn.json");
    let pl_tests = check_prairielearn_format(&pl);
    assert_eq!(pl["score"], 0.5);
    let maxima: Vec<f64> = pl_tests
        .iter()
        .map(|test| test["max_points"].as_f64().unwrap())
        .collect();
    assert_eq!(maxima, [2.0, 2.0, 0.0]);
    assert!(
        pl_tests[1]["message"]
            .as_str()
            .unwrap()
            .contains("message-client not submitted")
    );

    let result = parse("classroom.json");
    let classroom_tests = check_classroom_format(&result);
    assert_eq!(
        (&result["status"], &result["max_score"]),
        (&json!("fail"), &json!(4))
    );
    let statuses: Vec<&str> = classroom_tests
        .iter()
        .map(|test| test["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["pass", "fail", "pass"]);

    let grades = read("grades.csv");
    let mut lines = grades.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("submission,message (/4),total,max,extra,passed,failed,skipped"),
        "{header}"
    );
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&row[1..8], ["2", "2", "4", "0", "1", "0", "2"], "{grades}");

    let page = read("html/index.html");
    assert!(
        page.contains("message-client not submitted"),
        "the page says why"
    );
    assert!(
        page.contains("only the simulated world can do"),
        "the page says why"
    );
    assert!(page.contains("2/4"), "the page counts 2 of 4 points");

    // The recording reports the same again, into every per-submission format.
    let again = tempfile::tempdir().unwrap();
    let replayed = |name: &str| -> PathBuf { again.path().join(name) };
    let output = Command::cargo_bin("harness")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("replay")
        .arg(file("run.jsonl"))
        .args(["--gradescope-visibility", "message/02*=hidden"])
        .arg("--gradescope")
        .arg(replayed("gradescope.json"))
        .arg("--prairielearn")
        .arg(replayed("prairielearn.json"))
        .arg("--github-classroom")
        .arg(replayed("classroom.json"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ["gradescope.json", "prairielearn.json", "classroom.json"] {
        assert_eq!(
            std::fs::read_to_string(replayed(name)).unwrap(),
            read(name),
            "{name} from the recording"
        );
    }
}

#[test]
fn the_grading_platforms_are_told_why_when_nothing_can_be_graded() {
    let empty = tempfile::tempdir().unwrap();
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(
        broken.path().join("submission.toml"),
        "[message]\nsever = \"x\"\n",
    )
    .unwrap();
    for (folder, why) in [
        (empty.path(), "nothing to grade"),
        (broken.path(), "submission.toml:2"),
    ] {
        let out = tempfile::tempdir().unwrap();
        let file = |name: &str| -> PathBuf { out.path().join(name) };
        let output = Command::cargo_bin("harness")
            .unwrap()
            .current_dir(common::kit_root())
            .arg("--target")
            .arg(folder)
            .args(["--task", "message"])
            .arg("--prairielearn")
            .arg(file("pl.json"))
            .arg("--github-classroom")
            .arg(file("classroom.json"))
            .arg("--gradescope")
            .arg(file("gradescope.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        let parse = |name: &str| -> Value {
            serde_json::from_str(
                &std::fs::read_to_string(file(name))
                    .unwrap_or_else(|error| panic!("{name} is written even so: {error}")),
            )
            .unwrap()
        };
        let pl = parse("pl.json");
        check_prairielearn_format(&pl);
        assert_eq!(pl["gradable"], false);
        assert!(pl.get("score").is_none());
        assert!(pl["message"].as_str().unwrap().contains(why), "{pl:#}");
        assert!(pl["format_errors"][0].as_str().unwrap().contains(why));
        let result = parse("classroom.json");
        let tests = check_classroom_format(&result);
        assert_eq!(
            (&result["status"], &result["max_score"]),
            (&json!("error"), &json!(0))
        );
        assert!(tests[0]["message"].as_str().unwrap().contains(why));
        let gradescope_results = parse("gradescope.json");
        check_gradescope_format(&gradescope_results);
        assert_eq!(gradescope_results["score"], 0.0);
        assert!(gradescope_results["output"].as_str().unwrap().contains(why));
    }
}

#[test]
fn per_submission_formats_refuse_a_class_and_a_missing_folder_before_grading() {
    let out = tempfile::tempdir().unwrap();
    for flag in ["--prairielearn", "--github-classroom", "--gradescope"] {
        let output = Command::cargo_bin("harness")
            .unwrap()
            .current_dir(common::kit_root())
            .args([
                "--target",
                "fixtures/submissions/sample",
                "--target",
                "fixtures/submissions/good",
                flag,
            ])
            .arg(out.path().join("results.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{flag} describes one submission (2 given)")),
            "{stderr}"
        );
        let output = Command::cargo_bin("harness")
            .unwrap()
            .current_dir(common::kit_root())
            .args(["--target", "fixtures/submissions/sample", flag])
            .arg(out.path().join("no-such-folder/results.json"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("does not exist"), "{stderr}");
        assert!(
            !stderr.contains("PASS") && output.stdout.is_empty(),
            "nothing ran"
        );
    }
    let output = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(common::kit_root())
        .args(["--target", "fixtures/submissions/sample", "--gradescope"])
        .arg(out.path().join("results.json"))
        .args(["--gradescope-visibility", "mesage=hidden"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`mesage=hidden` selects no scenario"),
        "{stderr}"
    );
    let output = Command::cargo_bin("harness")
        .unwrap()
        .current_dir(common::kit_root())
        .args(["--target", "fixtures/submissions/sample"])
        .args(["--gradescope-visibility", "security=hidden"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "only with --gradescope");
}

// ---------------------------------------------------------------------------------------
// Reports never written through a link

/// Every report file a run writes, each path a link a program could have planted (in
/// `/tmp`, say) to a file of the grader's: each report replaces its link, and the file the
/// link led to is untouched. A report folder that is a link is refused.
#[test]
fn every_report_replaces_a_link_at_its_path_and_never_writes_where_it_leads() {
    let folder = tempfile::tempdir().unwrap();
    let outside = folder.path().join("outside.txt");
    std::fs::write(&outside, "the grader's file").unwrap();
    let reports = [
        ("--json", "report.json"),
        ("--junit", "report.xml"),
        ("--gradebook", "grades.csv"),
        ("--gradescope", "gradescope.json"),
        ("--prairielearn", "prairielearn.json"),
        ("--github-classroom", "classroom.json"),
        ("--record", "run.jsonl"),
    ];
    let mut command = common::harness();
    command.args(["--simulate", "--seed", "1", "message/01-*"]);
    for (flag, name) in reports {
        let path = folder.path().join(name);
        std::os::unix::fs::symlink(&outside, &path).unwrap();
        command.arg(flag).arg(&path);
    }
    let html = folder.path().join("html");
    std::fs::create_dir(&html).unwrap();
    std::os::unix::fs::symlink(&outside, html.join("index.html")).unwrap();
    command.arg("--html").arg(&html);
    command.assert().success();
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "the grader's file"
    );
    for path in reports
        .iter()
        .map(|(_, name)| folder.path().join(name))
        .chain([html.join("index.html")])
    {
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        assert!(metadata.is_file(), "{} is a regular file", path.display());
        assert!(metadata.len() > 0, "{} was written", path.display());
    }

    // The platforms' documents written when nothing could be graded, the same way.
    let empty = folder.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let results = folder.path().join("results.json");
    std::os::unix::fs::symlink(&outside, &results).unwrap();
    common::harness()
        .arg("--target")
        .arg(&empty)
        .arg("--gradescope")
        .arg(&results)
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "the grader's file"
    );
    assert!(std::fs::symlink_metadata(&results).unwrap().is_file());
    assert!(
        std::fs::read_to_string(&results)
            .unwrap()
            .contains("could not be graded")
    );

    // A report folder that is a link, refused before anything runs.
    let elsewhere = folder.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let linked = folder.path().join("linked-html");
    std::os::unix::fs::symlink(&elsewhere, &linked).unwrap();
    common::harness()
        .args(["--simulate", "--seed", "1", "message/01-*", "--html"])
        .arg(&linked)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is a symbolic link"));
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}
