//! `--gradebook FILE.csv`: one row per submission, with per-task and total points.
//!
//! Columns: `submission`, one per selected task (points earned; the header says out of
//! how many: `message (/45)`), `total`, `max`, `extra` (extra points earned), `passed`,
//! `failed`, `skipped`, `not_submitted` (tasks with no program, `;`-separated) and
//! `problem` (why a folder could not be graded at all). Points count as in every report
//! ([`super::score`]): a scenario this run could not play is in no one's `max`, one a
//! submission lacks a program for stays in it. Rows are sorted by submission, so
//! the same submissions give the same file whatever order they finished in.

use std::io;
use std::path::PathBuf;

use super::{FileReport, RunRecord, Score};

/// The `--gradebook` reporter: [`render`] written to `path` when the run is over.
pub fn report(path: PathBuf) -> FileReport<Vec<u8>> {
    FileReport::new(path, render)
}

/// The gradebook of `run` as CSV text.
pub fn render(run: &RunRecord) -> io::Result<Vec<u8>> {
    // Every task any submission was graded on, with its total: the same for everyone, as
    // what this run cannot play is out of every total and what a submission lacks is in
    // its own. A task nobody submitted is worth what the grader said it was.
    let mut tasks: Vec<(String, u32)> = Vec::new();
    for submission in &run.submissions {
        for task in Score::of(&submission.outcomes).tasks {
            if !tasks.iter().any(|(name, _)| *name == task.task) {
                tasks.push((task.task, task.total));
            }
        }
    }
    for submission in &run.submissions {
        for (task, points) in &submission.info.not_submitted_points {
            if !tasks.iter().any(|(name, _)| name == task) {
                tasks.push((task.clone(), *points));
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["submission".to_string()];
    header.extend(
        tasks
            .iter()
            .map(|(task, total)| format!("{task} (/{total})")),
    );
    header.extend(
        [
            "total",
            "max",
            "extra",
            "passed",
            "failed",
            "skipped",
            "not_submitted",
            "problem",
        ]
        .map(String::from),
    );
    writer.write_record(&header).map_err(io::Error::other)?;
    let mut submissions: Vec<_> = run.submissions.iter().collect();
    submissions.sort_by(|a, b| a.info.submission.cmp(&b.info.submission));
    let max: u32 = tasks.iter().map(|(_, total)| total).sum();
    for submission in submissions {
        let score = Score::of(&submission.outcomes);
        let mut row = vec![submission.info.submission.clone()];
        for (task, _) in &tasks {
            let earned = score
                .tasks
                .iter()
                .find(|scored| scored.task == *task)
                .map_or(0, |scored| scored.earned);
            row.push(earned.to_string());
        }
        row.extend([
            score.earned.to_string(),
            max.to_string(),
            score.extra_earned.to_string(),
            score.passed.to_string(),
            score.failed.to_string(),
            score.skipped.to_string(),
            submission.info.not_submitted.join(";"),
            submission.info.problem.clone().unwrap_or_default(),
        ]);
        writer.write_record(&row).map_err(io::Error::other)?;
    }
    writer
        .into_inner()
        .map_err(|error| io::Error::other(error.to_string()))
}
