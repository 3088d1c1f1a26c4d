//! `--json FILE`: the whole run as one JSON document, for scripts, dashboards and course
//! tools.
//!
//! The document is versioned ([`SCHEMA_VERSION`], its `schema_version` field) and
//! documented field by field by its JSON Schema (draft 2020-12),
//! `harness/schema/report.schema.json`: read it for what each field means. The schema is
//! strict (no field it does not name, every field present, `null` where there is nothing
//! to say), and the tests validate the reports of real gradings against it.
//!
//! ```text
//! { "schema_version": 7, "harness_version", "seed", "repeat", "world", "replay_command",
//!   "jobs", "isolation", "sandbox": { "summary", "not_here" }, "servers",
//!   "started_unix_ms", "elapsed_ms",
//!   "submissions": [ { "label", "replay_command", "elapsed_ms", "not_submitted", "problem",
//!       "score": { "earned", "total", "left_out", "maximum", "extra", "tasks": [...] },
//!       "counts": { ..., "flaky" },
//!       "scenarios": [ { "id", "task", "clauses", "category", "points", "extra",
//!           "requirement", "hint", "status", "duration_ms", "seed", "replay", "failure",
//!           "skip_reason", "skip_kind", "log", "transcript", "programs", "capture",
//!           "repetitions": { "count", "passed", "failed", "flaky", "passed_seeds",
//!               "failed_seeds", "runs": [ { "seed", "status", "duration_ms", "failure" } ] }
//!       } ] } ] }
//! ```
//!
//! With `--repeat N` each scenario ran N times: its `repetitions` say what every run did,
//! and the rest of the scenario is the run shown (the first that did not pass, else the
//! first). A flaky scenario (`repetitions.flaky`: some runs passed, others did not) counts
//! among the failures; `counts.flaky` says how many there are. Without `--repeat`,
//! `repeat` is 1 and every `repetitions` is null.
//!
//! Points are counted as in every report ([`super::score`]): `total` leaves out the
//! scenarios this run could not play (`left_out` says how many points that is, and their
//! `skip_kind` is `cannot-run`), and keeps those skipped for want of a program
//! (`not-submitted`); `maximum` adds what the tasks with no program were worth.
//!
//! Bytes (a transcript entry's first bytes, a program's output) appear twice: as text
//! (decoded as UTF-8, a byte that is not UTF-8 replaced by U+FFFD, control characters but
//! newline and tab escaped as `\x1b`, `\r`, `\u{202e}`), for reading, and as base64, exact.
//! Every other text a submission chose (names, command lines, what a step saw) is escaped
//! the same way, on one line ([`run_record::escape`]), before any report is written. The structs below are the document's own, written for it: the internal
//! ones ([`Outcome`] and the like) can change without changing the document.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::{FileReport, RunRecord, Score, SubmissionRecord};
use run_record::events::{Isolation, RunInfo, WorldKind};
use run_record::exit::ExitKind;
use run_record::outcome::{Failure, Outcome, ProgramReport, SkipKind, Status};
use run_record::repeat::Repetitions;
use run_record::transcript::{Direction, TranscriptEntry};

/// Version of the document's shape: raised when a field changes meaning or goes away
/// (adding one is a change too, since the schema admits no unknown field). 2: skipped
/// scenarios this run cannot play leave `total` (`left_out`, `maximum`, `skip_kind`).
/// 3: a failure names its cause (`cause`), a program whether the harness stopped it
/// (`stopped_by_harness`), an output its last bytes (`tail`). 4: `--repeat` (`repeat`,
/// each scenario's `repetitions`, `counts.flaky`). 5: a failure opens with its sentence
/// (`summary`, `blamed`, `hints`), a program borrowed from a companion folder says so
/// (`known_good`). 6: the run's `sandbox` and `servers`. 7: a program whose command could
/// not be started says why (`not_started`).
pub const SCHEMA_VERSION: u32 = 7;

/// The `--json` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<String> {
    FileReport::new(path, render)
}

/// The report of `run`, as pretty-printed JSON text ending in a newline.
pub fn render(run: &RunRecord) -> io::Result<String> {
    let mut text = serde_json::to_string_pretty(&document(run)).map_err(io::Error::other)?;
    text.push('\n');
    Ok(text)
}

/// The whole run.
#[derive(Debug, Serialize)]
struct Document {
    schema_version: u32,
    harness_version: String,
    seed: u64,
    repeat: u32,
    world: &'static str,
    replay_command: String,
    jobs: usize,
    isolation: &'static str,
    sandbox: Option<SandboxDoc>,
    servers: Vec<String>,
    started_unix_ms: u64,
    elapsed_ms: Option<f64>,
    submissions: Vec<Submission>,
}

/// The sandbox around each program in this run: the header's line, and the ids of the
/// layers this system refused.
#[derive(Debug, Serialize)]
struct SandboxDoc {
    summary: String,
    not_here: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Submission {
    label: String,
    replay_command: String,
    elapsed_ms: Option<f64>,
    not_submitted: Vec<String>,
    problem: Option<String>,
    score: ScoreDoc,
    counts: Counts,
    scenarios: Vec<Scenario>,
}

#[derive(Debug, Serialize)]
struct ScoreDoc {
    earned: u32,
    total: u32,
    left_out: u32,
    maximum: u32,
    extra: u32,
    tasks: Vec<TaskScore>,
}

#[derive(Debug, Serialize)]
struct TaskScore {
    task: String,
    earned: u32,
    total: u32,
    left_out: u32,
    extra: u32,
    has_extra: bool,
    passed: usize,
    ran: usize,
}

#[derive(Debug, Serialize)]
struct Counts {
    scenarios: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    missed: usize,
    flaky: usize,
}

#[derive(Debug, Serialize)]
struct Scenario {
    id: String,
    task: String,
    clauses: Vec<String>,
    category: &'static str,
    points: u32,
    extra: bool,
    requirement: String,
    hint: Option<String>,
    status: &'static str,
    duration_ms: f64,
    seed: u64,
    replay: String,
    failure: Option<FailureDoc>,
    skip_reason: Option<String>,
    skip_kind: Option<&'static str>,
    log: Vec<LogLineDoc>,
    transcript: TranscriptDoc,
    programs: Vec<Program>,
    capture: String,
    repetitions: Option<RepetitionsDoc>,
}

#[derive(Debug, Serialize)]
struct RepetitionsDoc {
    count: usize,
    passed: usize,
    failed: usize,
    flaky: bool,
    passed_seeds: Vec<u64>,
    failed_seeds: Vec<u64>,
    runs: Vec<RunDoc>,
}

#[derive(Debug, Serialize)]
struct RunDoc {
    seed: u64,
    status: &'static str,
    duration_ms: f64,
    failure: Option<FailureDoc>,
}

#[derive(Debug, Serialize)]
struct FailureDoc {
    step: usize,
    line: usize,
    action: String,
    expected: String,
    seen: String,
    diff: Option<String>,
    cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blamed: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hints: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
struct LogLineDoc {
    at_ms: f64,
    text: String,
}

#[derive(Debug, Serialize)]
struct TranscriptDoc {
    entries: Vec<Entry>,
    left_out: u64,
}

#[derive(Debug, Serialize)]
struct Entry {
    connection: String,
    direction: &'static str,
    first_ms: f64,
    last_ms: f64,
    event: Option<String>,
    bytes: u64,
    pieces: u64,
    head: Excerpt,
}

/// The first bytes of something, as text and exactly.
#[derive(Debug, Serialize)]
struct Excerpt {
    text: String,
    base64: String,
    bytes: usize,
}

#[derive(Debug, Serialize)]
struct Program {
    name: String,
    command_line: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    known_good: bool,
    exit: Option<Exit>,
    stopped_by_harness: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_started: Option<String>,
    stdout: Output,
    stderr: Output,
}

#[derive(Debug, Serialize)]
struct Exit {
    kind: &'static str,
    value: i32,
    description: String,
    after_ms: f64,
    max_rss_kib: u64,
}

#[derive(Debug, Serialize)]
struct Output {
    total: u64,
    head: Excerpt,
    tail: Option<Excerpt>,
}

fn document(run: &RunRecord) -> Document {
    let info = run.info.clone().unwrap_or_else(|| without_run_info(run));
    Document {
        schema_version: SCHEMA_VERSION,
        harness_version: info.harness_version,
        seed: info.seed,
        repeat: info.repeat,
        world: match info.world {
            WorldKind::Real => "real",
            WorldKind::Simulated => "simulated",
        },
        replay_command: info.replay_command,
        jobs: info.jobs,
        isolation: match info.isolation {
            Isolation::None => "none",
            Isolation::NetworkNamespace => "network-namespace",
            Isolation::PortAllocator => "port-allocator",
        },
        sandbox: info.sandbox.map(|summary| SandboxDoc {
            summary,
            not_here: info.sandbox_not_here,
        }),
        servers: info.servers,
        started_unix_ms: info.started_unix_ms,
        elapsed_ms: run.elapsed.map(millis),
        submissions: run
            .submissions
            .iter()
            .map(|submission| submission_doc(run, submission))
            .collect(),
    }
}

/// What a run that never said `run-started` (a truncated recording) is taken to be: this
/// harness, the seed its scenarios name, one submission at a time.
fn without_run_info(run: &RunRecord) -> RunInfo {
    RunInfo {
        servers: Vec::new(),
        record_version: run_record::events::RECORD_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        seed: run
            .submissions
            .iter()
            .flat_map(|submission| &submission.outcomes)
            .map(|outcome| outcome.seed)
            .next()
            .unwrap_or(0),
        repeat: 1,
        world: WorldKind::Real,
        replay_command: "harness".into(),
        submissions: run
            .submissions
            .iter()
            .map(|submission| submission.info.submission.clone())
            .collect(),
        jobs: 1,
        isolation: Isolation::None,
        sandbox: None,
        sandbox_not_here: Vec::new(),
        started_unix_ms: 0,
    }
}

fn submission_doc(run: &RunRecord, submission: &SubmissionRecord) -> Submission {
    let score = Score::of(&submission.outcomes);
    Submission {
        label: submission.info.submission.clone(),
        replay_command: submission.info.replay_command.clone(),
        elapsed_ms: submission.elapsed.map(millis),
        not_submitted: submission.info.not_submitted.clone(),
        problem: submission.info.problem.clone(),
        score: ScoreDoc {
            earned: score.earned,
            total: score.total,
            left_out: score.left_out,
            maximum: score.maximum(&submission.info),
            extra: score.extra_earned,
            tasks: score
                .tasks
                .iter()
                .map(|task| TaskScore {
                    task: task.task.clone(),
                    earned: task.earned,
                    total: task.total,
                    left_out: task.left_out,
                    extra: task.extra_earned,
                    has_extra: task.has_extra,
                    passed: task.passed,
                    ran: task.ran,
                })
                .collect(),
        },
        counts: Counts {
            scenarios: submission.outcomes.len(),
            passed: score.passed,
            failed: score.failed,
            skipped: score.skipped,
            missed: score.missed,
            flaky: submission.flaky().len(),
        },
        scenarios: submission
            .outcomes
            .iter()
            .map(|outcome| scenario_doc(run, submission, outcome))
            .collect(),
    }
}

fn scenario_doc(run: &RunRecord, submission: &SubmissionRecord, outcome: &Outcome) -> Scenario {
    let (entries, left_out) = &outcome.transcript;
    Scenario {
        id: outcome.id.clone(),
        task: outcome.task.clone(),
        clauses: outcome.clauses.clone(),
        category: outcome.category.name(),
        points: outcome.points,
        extra: outcome.extra,
        requirement: outcome.requirement.clone(),
        hint: outcome.hint.clone(),
        status: status_word(outcome.status),
        duration_ms: millis(outcome.duration),
        seed: outcome.seed,
        replay: replay(&submission.info.replay_command, outcome),
        failure: outcome.failure.as_ref().map(|failure| {
            let mut doc = failure_doc(failure);
            if let Some(diagnosis) = super::diagnosis::diagnose(outcome) {
                doc.summary = Some(diagnosis.sentence());
                doc.blamed = Some(diagnosis.blamed);
                doc.hints = Some(super::diagnosis::hints(outcome));
            }
            doc
        }),
        skip_reason: outcome.skip_reason.clone(),
        skip_kind: outcome.skip_kind.map(skip_kind_word),
        log: outcome
            .log
            .iter()
            .map(|line| LogLineDoc {
                at_ms: millis(line.at),
                text: line.text.clone(),
            })
            .collect(),
        transcript: TranscriptDoc {
            entries: entries.iter().map(entry_doc).collect(),
            left_out: *left_out,
        },
        programs: outcome.programs.iter().map(program_doc).collect(),
        capture: run
            .pcap_path(&submission.info.submission, &outcome.id)
            .to_string_lossy()
            .into_owned(),
        repetitions: submission.repetitions_of(&outcome.id).map(repetitions_doc),
    }
}

fn failure_doc(failure: &Failure) -> FailureDoc {
    FailureDoc {
        step: failure.step,
        line: failure.line,
        action: failure.action.clone(),
        expected: failure.expected.clone(),
        seen: failure.seen.clone(),
        diff: failure.diff.clone(),
        cause: failure.cause.clone(),
        summary: None,
        blamed: None,
        hints: None,
    }
}

fn repetitions_doc(repetitions: &Repetitions) -> RepetitionsDoc {
    RepetitionsDoc {
        count: repetitions.runs.len(),
        passed: repetitions.passed(),
        failed: repetitions.failed(),
        flaky: repetitions.is_flaky(),
        passed_seeds: repetitions.seeds(true),
        failed_seeds: repetitions.seeds(false),
        runs: repetitions
            .runs
            .iter()
            .map(|run| RunDoc {
                seed: run.seed,
                status: status_word(run.status),
                duration_ms: millis(run.duration),
                failure: run.failure.as_ref().map(failure_doc),
            })
            .collect(),
    }
}

fn entry_doc(entry: &TranscriptEntry) -> Entry {
    Entry {
        connection: entry.connection.clone(),
        direction: match entry.direction {
            Direction::ToProgram => "to-program",
            Direction::FromProgram => "from-program",
        },
        first_ms: millis(entry.first),
        last_ms: millis(entry.last),
        event: entry.event.clone(),
        bytes: entry.bytes,
        pieces: entry.pieces,
        head: excerpt(&entry.head),
    }
}

fn program_doc(program: &ProgramReport) -> Program {
    let output = |(head, total): &(Vec<u8>, u64), tail: &Vec<u8>| Output {
        total: *total,
        head: excerpt(head),
        tail: (!tail.is_empty()).then(|| excerpt(tail)),
    };
    Program {
        name: program.name.clone(),
        command_line: program.command_line.clone(),
        known_good: program.known_good,
        exit: program.exit.map(|exit| {
            let (kind, value) = match exit.kind {
                ExitKind::Code(code) => ("code", code),
                ExitKind::Signal(signal) => ("signal", signal),
            };
            Exit {
                kind,
                value,
                description: exit.kind.to_string(),
                after_ms: millis(exit.after),
                max_rss_kib: exit.max_rss_kib,
            }
        }),
        stopped_by_harness: program.stopped_by_harness.as_ref().map(ToString::to_string),
        not_started: program.not_started.clone(),
        stdout: output(&program.stdout, &program.stdout_tail),
        stderr: output(&program.stderr, &program.stderr_tail),
    }
}

fn excerpt(bytes: &[u8]) -> Excerpt {
    Excerpt {
        // For reading: newlines and tabs kept, other control characters and bytes that
        // are not UTF-8 escaped (the exact bytes are in `base64`).
        text: run_record::escape::escaped_byte_lines(bytes),
        base64: STANDARD.encode(bytes),
        bytes: bytes.len(),
    }
}

/// The word the document uses for a verdict.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Timeout => "timeout",
        Status::Error => "error",
        Status::Skipped => "skipped",
        Status::Missed => "missed",
    }
}

/// The word the reports use for why a scenario was skipped.
pub fn skip_kind_word(kind: SkipKind) -> &'static str {
    match kind {
        SkipKind::CannotRun => "cannot-run",
        SkipKind::NotSubmitted => "not-submitted",
    }
}

/// The command that replays one scenario, as the terminal report prints it.
pub fn replay(replay_command: &str, outcome: &Outcome) -> String {
    format!("{replay_command} --seed {} '{}'", outcome.seed, outcome.id)
}

/// Milliseconds, to the microsecond.
fn millis(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}
