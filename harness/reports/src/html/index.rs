//! A batch's `index.html`: its submissions with their scores, and the scenarios by
//! student (`templates/index.html`, `templates/matrix.html`).

use std::io;
use std::path::Path;

use askama::Template;

use super::{RunFacts, href_of, page, render, seconds};
use crate::{RunRecord, Score};
use run_record::outcome::{Outcome, Status};

/// The page.
#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    title: &'static str,
    /// How many submissions were graded.
    graded: usize,
    /// The verdicts of them all: `54 passed, 41 failed`.
    counts: String,
    facts: Option<RunFacts<'a>>,
    /// The command that grades the batch again.
    replay: Option<String>,
    elapsed: Option<String>,
    rows: Vec<Row<'a>>,
    /// None when nothing was graded.
    matrix: Option<Matrix<'a>>,
}

/// A submission's row.
struct Row<'a> {
    /// `good`, `partial` or `bad`.
    class: &'static str,
    href: String,
    label: &'a str,
    /// Why nothing could be graded.
    problem: Option<&'a str>,
    points: String,
    passed: usize,
    failed: usize,
    skipped: usize,
    missed: usize,
    not_submitted: String,
    time: String,
}

/// The scenarios by student.
struct Matrix<'a> {
    /// A column per submission.
    who: Vec<&'a str>,
    rows: Vec<MatrixRow<'a>>,
}

/// A scenario, and its verdict for each submission (None: not graded).
struct MatrixRow<'a> {
    id: String,
    failed: usize,
    cells: Vec<Option<Cell<'a>>>,
}

/// A verdict, linked to the student's page.
struct Cell<'a> {
    /// `pass`, `fail` or `skip`.
    class: &'static str,
    mark: &'static str,
    href: String,
    who: &'a str,
    status: &'static str,
}

/// The list of a batch's submissions with their scores.
pub(super) fn index_page(run: &RunRecord, names: &[String]) -> io::Result<String> {
    let all: Vec<Outcome> = run
        .submissions
        .iter()
        .flat_map(|submission| submission.outcomes.iter().map(page::light))
        .collect();
    let rows = run
        .submissions
        .iter()
        .zip(names)
        .map(|(submission, name)| {
            let score = Score::of(&submission.outcomes);
            // Nothing graded (no program, or a folder that could not be read) is not a
            // pass; a task not submitted beside passing ones is not quite one either.
            let class = if score.failed > 0
                || submission.info.problem.is_some()
                || submission.outcomes.is_empty()
            {
                "bad"
            } else if !submission.info.not_submitted.is_empty() {
                "partial"
            } else {
                "good"
            };
            Row {
                class,
                href: href_of(Path::new(name)),
                label: &submission.info.submission,
                problem: submission.info.problem.as_deref(),
                points: score.points_of(&submission.info),
                passed: score.passed,
                failed: score.failed,
                skipped: score.skipped,
                missed: score.missed,
                not_submitted: submission.info.not_submitted.join(", "),
                time: submission.elapsed.map(seconds).unwrap_or_default(),
            }
        })
        .collect();
    render(&IndexPage {
        title: "Socket-lab report",
        graded: run.submissions.len(),
        counts: Score::of(&all).counts(),
        facts: RunFacts::of(run.info.as_ref()),
        replay: run
            .info
            .as_ref()
            .map(|info| format!("{} --seed {}", info.replay_command, info.seed)),
        elapsed: run.elapsed.map(seconds),
        rows,
        matrix: scenario_matrix(run, names),
    })
}

/// The scenarios by student, as Autobahn's test-suite report draws its cases by
/// implementation: a row per scenario, most failed first (what the class found hardest),
/// a column per submission, a cell per verdict, linked to the student's page.
fn scenario_matrix<'a>(run: &'a RunRecord, names: &[String]) -> Option<Matrix<'a>> {
    let mut rows: Vec<(String, usize)> = Vec::new();
    for submission in &run.submissions {
        for outcome in &submission.outcomes {
            let failed = usize::from(outcome.status.is_failure());
            match rows.iter_mut().find(|(id, _)| *id == outcome.id) {
                Some((_, count)) => *count += failed,
                None => rows.push((outcome.id.clone(), failed)),
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    // Stable: among equals, the order the scenarios ran in (the kit's).
    rows.sort_by_key(|(_, failed)| std::cmp::Reverse(*failed));
    let rows = rows
        .into_iter()
        .map(|(id, failed)| {
            let cells = run
                .submissions
                .iter()
                .zip(names)
                .map(|(submission, name)| {
                    let outcome = submission
                        .outcomes
                        .iter()
                        .find(|outcome| outcome.id == id)?;
                    let (mark, class) = match outcome.status {
                        Status::Pass => ("✓", "pass"),
                        Status::Fail => ("✗", "fail"),
                        Status::Timeout => ("⧗", "fail"),
                        Status::Error => ("!", "fail"),
                        Status::Skipped => ("–", "skip"),
                        Status::Missed => ("○", "skip"),
                    };
                    Some(Cell {
                        class,
                        mark,
                        href: href_of(Path::new(name)),
                        who: &submission.info.submission,
                        status: outcome.status.label(),
                    })
                })
                .collect();
            MatrixRow { id, failed, cells }
        })
        .collect();
    Some(Matrix {
        who: run
            .submissions
            .iter()
            .map(|submission| submission.info.submission.as_str())
            .collect(),
        rows,
    })
}
