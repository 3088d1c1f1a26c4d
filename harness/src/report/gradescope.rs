//! `--gradescope FILE`: Gradescope's `results.json`, for an autograder that runs the
//! harness on each submission (`/autograder/results/results.json`).
//!
//! The fields are those of Gradescope's autograder specification ("Autograder
//! Specifications", *Output format*), and no others:
//!
//! ```text
//! { "score": 40.0,                  earned + extra: Gradescope shows it as the grade
//!   "execution_time": 19,           seconds, rounded up
//!   "output": "...", "output_format": "text",   the terminal's closing lines, seed, replay
//!   "visibility": "visible", "stdout_visibility": "hidden",
//!   "extra_data": { harness_version, seed, world, submission, earned, total, extra },
//!   "tests": [ { "score": 0.0, "max_score": 2.0, "status": "failed",
//!                "name": "message/06-binary: Binary messages ...", "name_format": "text",
//!                "number": "1.6", "output": "...", "output_format": "text",
//!                "tags": ["message", "basic", "message/9"], "visibility": "visible",
//!                "extra_data": { id, verdict, points, extra } } ] }
//! ```
//!
//! One test per scenario, in the order graded; `number` is `<task>.<scenario>`, both
//! 1-based. A required scenario has `max_score` its points and `score` its points when it
//! passed, else 0 (a skipped one too: its points stay in the total, as in every report).
//! An extra scenario (an optional part of the spec) has `max_score` 0 and `score` its points
//! when it passed, which Gradescope shows as extra credit; when missed, it scores 0 and is
//! marked `failed` (Gradescope's only other state), its output saying that it is optional
//! and costs nothing. The top-level `score` is what [`Score::of`] counts: earned plus extra
//! (it overrides the tests' sum, per the specification). A task with no program is one
//! informational test (no score fields, `failed`) saying `not submitted`.
//!
//! A test's output is plain text: for a failure, the terminal report's details (clause,
//! requirement, failed step, expected, seen, byte diff, step log, transcript, programs'
//! output, seed and the command that replays it); otherwise the clause, requirement and
//! replay command. Everything is `visible`: the scenarios are the published spec, and a
//! student learns from the failure; `stdout_visibility` is `hidden` (the autograder's
//! stdout, the terminal report, says nothing the tests do not, and is for staff). An
//! instructor who wants the results hidden until the due date edits `visibility`.

use std::fmt::Write;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::json::{replay, status_word};
use super::terminal::{Style, TerminalReport};
use super::{FileReport, RunRecord, Score, SubmissionRecord};
use crate::engine::{Outcome, Status};

/// The `--gradescope` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<String> {
    FileReport::new(path, render)
}

/// `results.json` of `run`, which must grade one submission (Gradescope runs the autograder
/// once per submission).
pub fn render(run: &RunRecord) -> io::Result<String> {
    let results = match run.submissions.as_slice() {
        [submission] => results(run, submission),
        [] => Results {
            score: 0.0,
            execution_time: execution_time(run, None),
            output: "nothing was graded".into(),
            output_format: "text",
            visibility: "visible",
            stdout_visibility: "hidden",
            extra_data: extra_data(run, None, &Score::of(&[])),
            tests: Vec::new(),
        },
        several => {
            return Err(io::Error::other(format!(
                "Gradescope's results.json describes one submission; this run graded {}",
                several.len()
            )));
        }
    };
    let mut text = serde_json::to_string_pretty(&results).map_err(io::Error::other)?;
    text.push('\n');
    Ok(text)
}

/// The top level of `results.json`.
#[derive(Debug, Serialize)]
struct Results {
    score: f64,
    execution_time: u64,
    output: String,
    output_format: &'static str,
    visibility: &'static str,
    stdout_visibility: &'static str,
    extra_data: serde_json::Value,
    tests: Vec<Test>,
}

/// One test case of `results.json`.
#[derive(Debug, Serialize)]
struct Test {
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_score: Option<f64>,
    status: &'static str,
    name: String,
    name_format: &'static str,
    number: String,
    output: String,
    output_format: &'static str,
    tags: Vec<String>,
    visibility: &'static str,
    extra_data: serde_json::Value,
}

fn results(run: &RunRecord, submission: &SubmissionRecord) -> Results {
    let score = Score::of(&submission.outcomes);
    let details = TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: submission.info.replay_command.clone(),
        simulated: run
            .info
            .as_ref()
            .is_some_and(|info| info.world == crate::events::World::Simulated),
    };
    let mut tests = Vec::new();
    for (task_number, task) in score.tasks.iter().enumerate() {
        let of_task = submission
            .outcomes
            .iter()
            .filter(|outcome| outcome.task == task.task);
        for (index, outcome) in of_task.enumerate() {
            tests.push(test(
                outcome,
                format!("{}.{}", task_number + 1, index + 1),
                &details,
            ));
        }
    }
    for (index, task) in submission.info.not_submitted.iter().enumerate() {
        tests.push(Test {
            score: None,
            max_score: None,
            status: "failed",
            name: format!("{task}: not submitted"),
            name_format: "text",
            number: format!("{}.1", score.tasks.len() + index + 1),
            output: format!(
                "No program for the task `{task}` was found in the submission: name it \
                 `{task}-<role>` (with any extension), or list it in `submission.toml`."
            ),
            output_format: "text",
            tags: vec![task.clone()],
            visibility: "visible",
            extra_data: serde_json::json!({ "task": task, "verdict": "not-submitted" }),
        });
    }
    Results {
        score: f64::from(score.earned + score.extra_earned),
        execution_time: execution_time(run, submission.elapsed),
        output: overall_output(run, submission, &details),
        output_format: "text",
        visibility: "visible",
        stdout_visibility: "hidden",
        extra_data: extra_data(run, Some(submission), &score),
        tests,
    }
}

fn test(outcome: &Outcome, number: String, details: &TerminalReport) -> Test {
    let passed = outcome.status == Status::Pass;
    let points = f64::from(outcome.points);
    let earned = if passed { points } else { 0.0 };
    let mut name = format!(
        "{}: {}",
        outcome.id,
        outcome.requirement.lines().next().unwrap_or("")
    );
    if outcome.extra {
        name.push_str(" (extra credit)");
    }
    let mut tags = vec![outcome.task.clone(), outcome.category.name().to_owned()];
    tags.extend(outcome.clauses.iter().cloned());
    Test {
        score: Some(earned),
        max_score: Some(if outcome.extra { 0.0 } else { points }),
        status: if passed { "passed" } else { "failed" },
        name,
        name_format: "text",
        number,
        output: test_output(outcome, details),
        output_format: "text",
        tags,
        visibility: "visible",
        extra_data: serde_json::json!({
            "id": outcome.id,
            "verdict": status_word(outcome.status),
            "points": outcome.points,
            "extra": outcome.extra,
            "seed": outcome.seed,
        }),
    }
}

/// What a student reads under a test.
fn test_output(outcome: &Outcome, details: &TerminalReport) -> String {
    let mut text = String::new();
    match outcome.status {
        Status::Fail | Status::Timeout | Status::Error => {
            text.push_str(&details.failure_details(outcome));
        }
        Status::Missed => {
            let _ = writeln!(
                text,
                "Extra credit, not earned: this optional part of the spec adds {} when it \
                 passes and costs nothing when it does not.\n",
                super::score::points(outcome.points)
            );
            text.push_str(&details.failure_details(outcome));
        }
        Status::Pass | Status::Skipped => {
            let _ = writeln!(
                text,
                "clause       {} ({})",
                outcome.clauses.join(", "),
                outcome.category.name()
            );
            let _ = writeln!(text, "requirement  {}", outcome.requirement);
            match &outcome.skip_reason {
                Some(reason) if outcome.status == Status::Skipped => {
                    let _ = writeln!(text, "skipped      {reason}");
                }
                _ => {
                    let _ = writeln!(
                        text,
                        "verdict      passed in {:.2}s",
                        outcome.duration.as_secs_f64()
                    );
                }
            }
            let _ = writeln!(
                text,
                "replay       {}",
                replay(&details.replay_command, outcome)
            );
        }
    }
    text
}

/// The text above the tests: the terminal's closing lines, and how to replay.
fn overall_output(
    run: &RunRecord,
    submission: &SubmissionRecord,
    details: &TerminalReport,
) -> String {
    let mut text = String::new();
    if let Some(problem) = &submission.info.problem {
        let _ = writeln!(text, "The submission could not be graded: {problem}\n");
    }
    text.push_str(&details.summary(
        &submission.outcomes,
        &submission.info.not_submitted,
        submission.elapsed.unwrap_or_default(),
    ));
    if let Some(info) = &run.info {
        let _ = writeln!(
            text,
            "\nGraded by the socket-lab kit's harness {} with seed {}. To replay a scenario \
             with the kit, run the command under its test, with your folder in place of \
             the submission's: {} --seed {} 'ID'",
            info.harness_version, info.seed, submission.info.replay_command, info.seed
        );
    }
    text
}

/// Seconds, rounded up: the submission's grading time, else the run's.
fn execution_time(run: &RunRecord, elapsed: Option<std::time::Duration>) -> u64 {
    let elapsed = elapsed.or(run.elapsed).unwrap_or_default();
    elapsed.as_secs() + u64::from(elapsed.subsec_nanos() > 0)
}

fn extra_data(
    run: &RunRecord,
    submission: Option<&SubmissionRecord>,
    score: &Score,
) -> serde_json::Value {
    serde_json::json!({
        "harness_version": run
            .info
            .as_ref()
            .map_or(env!("CARGO_PKG_VERSION"), |info| info.harness_version.as_str()),
        "seed": run.info.as_ref().map(|info| info.seed),
        "world": run.info.as_ref().map(|info| match info.world {
            crate::events::World::Real => "real",
            crate::events::World::Simulated => "simulated",
        }),
        "submission": submission.map(|submission| submission.info.submission.as_str()),
        "earned": score.earned,
        "total": score.total,
        "extra": score.extra_earned,
    })
}
