//! `--github-classroom FILE`: a test runner's result for GitHub Classroom's autograding,
//! as `classroom-resources/autograding-grading-reporter` reads it.
//!
//! That reporter is the last step of an autograding workflow. For each runner id it is
//! given (`runners: socketlab`) it reads the environment variable `<ID>_RESULTS` (upper
//! case), decodes it from base64 and parses this JSON, which is what the kit's runner
//! actions (`autograding-io-grader`, `autograding-command-grader`) put in their step
//! output `result`:
//!
//! ```text
//! { "version": 1,
//!   "status": "fail",                 pass | fail | error: the job fails unless pass
//!   "max_score": 6,                   this runner's points
//!   "tests": [ { "name": "message/06-binary: Binary messages ...",
//!                "status": "fail",    pass | fail | error
//!                "score": 0,          points earned (the reporter adds them up)
//!                "message": "fail at step 4: expected … / seen …",
//!                "test_code": "harness --target . --seed 1 'message/06-binary'",
//!                "filename": "", "line_no": 0,
//!                "duration": 310 } ] }          milliseconds
//! ```
//!
//! The reporter sends `Points <sum of the tests' score>/<max_score>` to Classroom (as a
//! notice on the run) and prints each test: its name with ✅ or ❌, and its `test_code`
//! (here the command that replays the scenario); an `error` test prints only its
//! `message`, which therefore starts with the scenario's id. `line_no` must be 0, or the
//! name is printed with ` - line N`.
//!
//! Points are counted as in every report ([`super::score`]): `max_score` is
//! [`Score::maximum`] (with a `fail` test for each task named on the command line that has
//! no program: its points are lost); an extra scenario earned adds its points to the tests'
//! sum (extra credit, which can pass `max_score`), and missed, is `fail` with score 0 and
//! a message saying it costs nothing.
//! A scenario this run could not play (no browser on the runner, a simulated-only one, a
//! step that needs a network namespace the runner refuses) is named `(not run here)` and
//! is a `pass` test with score 0, out of `max_score`, its message saying why: the
//! reporter's `fail` and `error` both print a red cross, and it counts neither for nor
//! against the student. One skipped for want of a program is `fail`, its points lost.
//!
//! The top-level `status` is `pass` when every point counted was earned, `fail` when some
//! were lost, and `error` when the harness could not grade at all ([`could_not_grade`],
//! written even then, with `max_score` 0 so that Classroom records no points).

use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::json::replay;
use super::score::left_out;
use super::{FileReport, RunRecord, Score, SubmissionRecord, numbered_by_task, verdict_line};
use run_record::outcome::{Outcome, Status};

/// The version of the runner result format (`version` of the reporter's input).
const FORMAT_VERSION: u32 = 1;

/// The `--github-classroom` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<String> {
    FileReport::new(path, render)
}

/// The runner result of `run`, which must grade one submission (a Classroom workflow
/// grades the repository it runs in).
pub fn render(run: &RunRecord) -> io::Result<String> {
    let result = match run.submissions.as_slice() {
        [submission] => match &submission.info.problem {
            Some(problem) => harness_error(problem),
            None => result(submission),
        },
        [] => harness_error("nothing was graded"),
        several => {
            return Err(io::Error::other(format!(
                "a GitHub Classroom result describes one repository; this run graded {}",
                several.len()
            )));
        }
    };
    Ok(to_text(&result))
}

/// The result written when the harness could not grade the submission at all (exit
/// status 2): status `error`, no points, and why.
pub fn could_not_grade(message: &str) -> String {
    to_text(&harness_error(message))
}

/// What the reporter reads from the runner's `result`.
#[derive(Debug, Serialize)]
struct RunnerResult {
    version: u32,
    status: &'static str,
    max_score: u32,
    tests: Vec<Test>,
}

/// One test of the runner result.
#[derive(Debug, Serialize)]
struct Test {
    name: String,
    status: &'static str,
    score: u32,
    message: String,
    test_code: String,
    filename: String,
    line_no: u32,
    duration: u64,
}

fn to_text(result: &RunnerResult) -> String {
    let mut text = serde_json::to_string_pretty(result).expect("plain data serializes");
    text.push('\n');
    text
}

fn harness_error(why: &str) -> RunnerResult {
    RunnerResult {
        version: FORMAT_VERSION,
        status: "error",
        max_score: 0,
        tests: vec![Test {
            name: "socket-lab harness".into(),
            status: "error",
            score: 0,
            message: format!("The submission could not be graded: {why}"),
            test_code: String::new(),
            filename: String::new(),
            line_no: 0,
            duration: 0,
        }],
    }
}

fn result(submission: &SubmissionRecord) -> RunnerResult {
    let score = Score::of(&submission.outcomes);
    let maximum = score.maximum(&submission.info);
    let mut tests: Vec<Test> = numbered_by_task(submission)
        .into_iter()
        .map(|(_, outcome)| test(outcome, &submission.info.replay_command))
        .collect();
    // A task asked for (named on the command line) and not submitted: its points are lost.
    // Grading every task found, the others are the rest of the kit, not shown.
    for task in &submission.info.not_submitted {
        let Some(&worth) = submission.info.not_submitted_points.get(task) else {
            continue;
        };
        tests.push(Test {
            name: format!("{task}: not submitted"),
            status: "fail",
            score: 0,
            message: format!(
                "No program for the task `{task}` was found: name it `{task}-<role>` (with \
                 any extension), or list it in `submission.toml`. {} lost.",
                super::score::points(worth)
            ),
            test_code: String::new(),
            filename: String::new(),
            line_no: 0,
            duration: 0,
        });
    }
    RunnerResult {
        version: FORMAT_VERSION,
        status: if score.earned == maximum {
            "pass"
        } else {
            "fail"
        },
        max_score: maximum,
        tests,
    }
}

fn test(outcome: &Outcome, replay_command: &str) -> Test {
    let mut name = format!(
        "{}: {}",
        outcome.id,
        outcome.requirement.lines().next().unwrap_or("")
    );
    if outcome.extra {
        name.push_str(" (extra credit)");
    }
    // Not run here: the reporter has no third state, and both `fail` and `error` print a
    // red cross; `pass` with no points, the name and the message saying it was not run,
    // counts neither for nor against the student.
    let status = match outcome.status {
        Status::Pass => "pass",
        Status::Skipped if left_out(outcome) => {
            name.push_str(" (not run here)");
            "pass"
        }
        _ => "fail",
    };
    let mut message = verdict_line(outcome);
    // The reporter prints only the message: the hints go with it.
    if status == "fail" && outcome.failure.is_some() {
        for hint in super::diagnosis::hints(outcome) {
            message.push_str(&format!("\nhint: {hint}"));
        }
    }
    Test {
        name,
        status,
        score: if outcome.status == Status::Pass {
            outcome.points
        } else {
            0
        },
        message,
        test_code: replay(replay_command, outcome),
        filename: String::new(),
        line_no: 0,
        duration: outcome.duration.as_millis() as u64,
    }
}
