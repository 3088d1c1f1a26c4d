//! `--prairielearn FILE`: PrairieLearn's external-grader `results.json`, for a question
//! whose grading container runs the harness on `/grade/student` and writes
//! `/grade/results/results.json`.
//!
//! The fields are those of PrairieLearn's *External Grading* reference ("Grading results"),
//! which its `<pl-external-grader-results>` element renders:
//!
//! ```text
//! { "gradable": true,
//!   "score": 0.4,                     a fraction of the maximum, 0 to 1
//!   "message": "2/6 points (+2 extra): 2 passed, 2 failed, 1 extra missed",
//!   "output": "...",                  the terminal's closing lines, seed, how to replay
//!   "tests": [ { "name": "message/06-binary",
//!                "description": "Binary messages ...",      the requirement
//!                "points": 0, "max_points": 2,
//!                "message": "fail at step 4: expected … / seen …",
//!                "output": "..." } ] }          the terminal report's details
//! ```
//!
//! One test per scenario, task by task, then one per task named on the command line
//! (`--task`, patterns) that has no program (`points` 0, `max_points` what the task was
//! worth). `score` is the points earned plus the extra,
//! over [`Score::maximum`], capped at 1 (PrairieLearn takes a fraction from 0 to 1, so
//! extra credit can make up for lost points but not go past full marks). The tests'
//! `max_points` add up to that maximum: a required scenario has its points; an extra one
//! has 0 (`points` its points when earned, which the element shows as information, not as
//! a failure); a scenario this run could not play (no browser in the image, a
//! simulated-only one) has 0, its message saying why and that it is not counted; one
//! skipped for want of a program keeps its points, lost.
//!
//! `gradable` is `false` when nothing could be graded: the harness could not run (a folder
//! with nothing to grade, a bad `submission.toml`: [`could_not_grade`], written even then),
//! or nothing selected counts (every scenario skipped because this grader cannot run it,
//! or only extra credit selected). PrairieLearn then marks the submission
//! invalid without charging an attempt, and shows `format_errors`.

use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::gradescope::{overall_output, test_output};
use super::score::left_out;
use super::{FileReport, RunRecord, Score, SubmissionRecord, numbered_by_task, verdict_line};
use run_record::outcome::Outcome;

/// The `--prairielearn` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<String> {
    FileReport::new(path, render)
}

/// `results.json` of `run`, which must grade one submission (PrairieLearn grades each
/// submission in a container of its own).
pub fn render(run: &RunRecord) -> io::Result<String> {
    let results = match run.submissions.as_slice() {
        [submission] => match &submission.info.problem {
            Some(problem) => ungradable(problem),
            None => results(run, submission),
        },
        [] => ungradable("nothing was graded"),
        several => {
            return Err(io::Error::other(format!(
                "PrairieLearn's results.json describes one submission; this run graded {}",
                several.len()
            )));
        }
    };
    Ok(to_text(&results))
}

/// The document written when the harness could not grade the submission at all (exit
/// status 2): not gradable, and why.
pub fn could_not_grade(message: &str) -> String {
    to_text(&ungradable(message))
}

/// The top level of `results.json`.
#[derive(Debug, Serialize)]
struct Results {
    gradable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    message: String,
    output: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    format_errors: Vec<String>,
    tests: Vec<Test>,
}

/// One test of `results.json`.
#[derive(Debug, Serialize)]
struct Test {
    name: String,
    description: String,
    points: f64,
    max_points: f64,
    message: String,
    output: String,
}

fn to_text(results: &Results) -> String {
    let mut text = serde_json::to_string_pretty(results).expect("plain data serializes");
    text.push('\n');
    text
}

fn ungradable(why: &str) -> Results {
    Results {
        gradable: false,
        score: None,
        message: format!("The submission could not be graded: {why}"),
        output: String::new(),
        format_errors: vec![why.to_owned()],
        tests: Vec::new(),
    }
}

fn results(run: &RunRecord, submission: &SubmissionRecord) -> Results {
    let score = Score::of(&submission.outcomes);
    let maximum = score.maximum(&submission.info);
    let details = super::plain_details(run, submission);
    let mut tests: Vec<Test> = numbered_by_task(submission)
        .into_iter()
        .map(|(_, outcome)| test(outcome, &details))
        .collect();
    // A task asked for (named on the command line) and not submitted: its points are lost.
    // Grading every task found, the others are the rest of the kit, not shown.
    for task in &submission.info.not_submitted {
        let Some(&worth) = submission.info.not_submitted_points.get(task) else {
            continue;
        };
        tests.push(Test {
            name: format!("{task}: not submitted"),
            description: format!("Every scenario of the task `{task}`."),
            points: 0.0,
            max_points: f64::from(worth),
            message: format!("not submitted: {} lost", super::score::points(worth)),
            output: format!(
                "No program for the task `{task}` was found in the submission: name it \
                 `{task}-<role>` (with any extension), or list it in `submission.toml`."
            ),
        });
    }
    // Nothing that counts could run: a fraction of nothing is no grade.
    if maximum == 0 {
        let mut results = ungradable(if score.left_out > 0 {
            "no selected scenario can run on this grader (each is listed, with why)"
        } else {
            "no selected scenario is worth points (only extra credit was selected)"
        });
        results.tests = tests;
        return results;
    }
    let earned = f64::from(score.earned + score.extra_earned);
    let fraction = (earned / f64::from(maximum)).min(1.0);
    let mut message = format!(
        "{}/{maximum} points{}: {}",
        score.earned,
        if score.tasks.iter().any(|task| task.has_extra) {
            format!(" (+{} extra)", score.extra_earned)
        } else {
            String::new()
        },
        score.counts()
    );
    if score.left_out > 0 {
        message.push_str(&format!(
            "; {} not counted (scenarios this grader cannot run)",
            super::score::points(score.left_out)
        ));
    }
    Results {
        gradable: true,
        score: Some(fraction),
        message,
        output: overall_output(run, submission, &details),
        format_errors: Vec::new(),
        tests,
    }
}

fn test(outcome: &Outcome, details: &super::TerminalReport) -> Test {
    let earned = if outcome.status == run_record::outcome::Status::Pass {
        outcome.points
    } else {
        0
    };
    let max_points = if outcome.extra || left_out(outcome) {
        0
    } else {
        outcome.points
    };
    let mut name = outcome.id.clone();
    if outcome.extra {
        name.push_str(" (extra credit)");
    }
    if left_out(outcome) {
        name.push_str(" (not run here)");
    }
    Test {
        name,
        description: outcome.requirement.clone(),
        points: f64::from(earned),
        max_points: f64::from(max_points),
        message: verdict_line(outcome),
        output: test_output(outcome, details),
    }
}
