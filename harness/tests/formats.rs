//! The file reports, `--json`, `--junit` and `--gradescope`, of real gradings and of runs
//! made up to hold every verdict: the JSON validates against its published schema (and the
//! schema can reject), the JUnit XML has the suites, cases, failures and skips it should,
//! and Gradescope's `results.json` has exactly Gradescope's documented fields, with the
//! points every other report counts.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use harness::batch::{Batch, Entry, grade_all};
use harness::engine::{Failure, LogLine, Outcome, ProgramReport, Status};
use harness::events::{
    Event, EventSink, Isolation, RECORD_VERSION, RunInfo, SubmissionInfo, World, outcome_events,
};
use harness::grading::Mode;
use harness::peers::{Direction, TranscriptEntry};
use harness::report::{Reporters, RunRecord, Score};
use harness::report::{gradescope, json, junit};
use harness::scenario::{Category, Selection, load_suite};
use harness::target::Target;
use harness::world::real::process::{ExitInfo, ExitKind};
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
        let target = Target::from_folder(&folder, &suite.catalogue).expect("a valid target");
        let selection = Selection::new(Vec::new(), &[]).unwrap();
        let replay_command = format!("harness --target {}", folder.display());
        let out = tempfile::tempdir().unwrap();
        let mut reporters = Reporters::new();
        reporters.add("json", json::report(out.path().join("report.json")));
        reporters.add("junit", junit::report(out.path().join("junit.xml")));
        reporters.add(
            "gradescope",
            gradescope::report(out.path().join("results.json")),
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
                jobs: 1,
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

    assert_eq!(document["schema_version"], 1);
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
        json!({ "scenarios": 5, "passed": 2, "failed": 2, "skipped": 0, "missed": 1 })
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
            document["schema_version"] = json!(2)
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
        });
    }
    if status == Status::Skipped {
        outcome.duration = Duration::ZERO;
        outcome.skip_reason = Some("no message-client in the submission".into());
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
        },
    ];
    outcome
}

/// Every verdict of one submission: two tasks, one of them with extras.
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
        world: World::Real,
        replay_command: "harness --target 'subs/*'".into(),
        submissions: submissions
            .iter()
            .map(|(label, ..)| label.to_string())
            .collect(),
        jobs: 2,
        isolation: Isolation::NetworkNamespace,
        started_unix_ms: 1_793_785_447_123,
    })];
    for (label, outcomes, problem) in submissions {
        events.push(Event::SubmissionStarted(SubmissionInfo {
            submission: label.to_string(),
            replay_command: format!("harness --target {label}"),
            scenarios: outcomes.len(),
            not_submitted: not_submitted.iter().map(|task| task.to_string()).collect(),
            problem: problem.map(String::from),
        }));
        for outcome in outcomes {
            events.extend(outcome_events(label, outcome.clone()));
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
    // Bytes that are not UTF-8: replaced in the text, exact in base64.
    let head = &alice["scenarios"][0]["transcript"]["entries"][0]["head"];
    assert_eq!(head["text"], "\u{fffd}\u{0}a\n\u{fffd}");
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
            assert!(
                message.starts_with("message/") && message.contains(": expected "),
                "{message}"
            );
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
    assert_eq!(attribute(root, "skipped"), "1");
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
        "no message-client in the submission"
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
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
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
    assert!(missed.starts_with("Extra credit, not earned"), "{missed}");
    let overall = results["output"].as_str().unwrap();
    assert!(
        overall.contains("2 passed, 2 failed, 1 extra missed"),
        "{overall}"
    );
}

#[test]
fn gradescope_counts_skips_in_the_maximum_and_extras_as_extra_credit() {
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
        (Some(0.0), Some(3.0))
    );
    assert!(
        skipped["output"]
            .as_str()
            .unwrap()
            .contains("no message-client")
    );
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
    let not_submitted = by_name("udp-pinger: not submitted");
    assert!(not_submitted.get("score").is_none() && not_submitted.get("max_score").is_none());
    assert_eq!(not_submitted["status"], "failed");
    assert_eq!(results["execution_time"], 3, "2.5 s, rounded up");
    let numbers: Vec<&str> = tests
        .iter()
        .map(|test| test["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            "1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "3.1"
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
