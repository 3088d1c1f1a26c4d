//! Points, counted one way for every report: per task, then per submission.
//!
//! A scenario's points count toward its task's total; passing earns them. Extra scenarios
//! (optional parts of the spec) are not in the total, and passing one adds its points as
//! extra. Skipped scenarios count nowhere in `ran`, and their points go one of two ways,
//! by why they were skipped ([`SkipKind`]):
//!
//! - **this run cannot play it** (a simulated-only scenario on real sockets, no browser on
//!   this machine, a check the simulated world cannot do): nobody could have earned its
//!   points here, so they leave the total (`left_out` says how many); so do the points of
//!   a scenario the harness could not play for its own trouble (an ERROR, see
//!   [`left_out`]);
//! - **the submission lacks a program it needs** (the client of a task whose server was
//!   submitted): the student's gap, so its points stay in the total, lost. Counting them out
//!   would score a half-submitted task above a complete one with a bug.
//!
//! A task with no program at all is not in the outcomes; grading platforms that need one
//! maximum add what it was worth ([`Score::maximum`]).

use serde::Serialize;

use run_record::events::SubmissionInfo;
use run_record::outcome::{Outcome, SkipKind, Status};

/// Whether this run could not play `outcome`'s scenario (its points leave the total): it
/// was skipped for that, or the harness could not do its own part of it (an ERROR whose
/// step expected "the harness to ...": a peer's database that did not start, a port it
/// could not get), which is no defect of the submission. A skip without a kind comes from
/// a recording made when every skip counted.
pub fn left_out(outcome: &Outcome) -> bool {
    (outcome.status == Status::Skipped && outcome.skip_kind == Some(SkipKind::CannotRun))
        || harness_trouble(outcome)
}

/// Whether `outcome` is an ERROR of the harness's own (see [`left_out`]).
pub fn harness_trouble(outcome: &Outcome) -> bool {
    outcome.status == Status::Error
        && outcome
            .failure
            .as_ref()
            .is_some_and(|failure| failure.expected.starts_with("the harness to "))
}

/// One task's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskScore {
    /// The task.
    pub task: String,
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that ran (not skipped).
    pub ran: usize,
    /// Points earned on required scenarios.
    pub earned: u32,
    /// Points of the required scenarios, less those left out.
    pub total: u32,
    /// Points of required scenarios this run could not play, out of `total`.
    pub left_out: u32,
    /// Points earned on extra scenarios.
    pub extra_earned: u32,
    /// Whether the task has extra scenarios at all.
    pub has_extra: bool,
}

/// A submission's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// Per task, in the order the outcomes came.
    pub tasks: Vec<TaskScore>,
    /// Sum of the tasks' earned points.
    pub earned: u32,
    /// Sum of the tasks' totals.
    pub total: u32,
    /// Sum of the points left out of the totals (scenarios this run could not play).
    pub left_out: u32,
    /// Sum of the extra points earned.
    pub extra_earned: u32,
    /// Scenarios per verdict.
    pub passed: usize,
    /// Failed, timed out or errored.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Extra scenarios not earned.
    pub missed: usize,
}

impl Score {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Score {
        let mut tasks: Vec<TaskScore> = Vec::new();
        for outcome in outcomes {
            let index = match tasks.iter().position(|task| task.task == outcome.task) {
                Some(index) => index,
                None => {
                    tasks.push(TaskScore {
                        task: outcome.task.clone(),
                        passed: 0,
                        ran: 0,
                        earned: 0,
                        total: 0,
                        left_out: 0,
                        extra_earned: 0,
                        has_extra: false,
                    });
                    tasks.len() - 1
                }
            };
            let task = &mut tasks[index];
            let passed = outcome.status == Status::Pass;
            if outcome.status != Status::Skipped {
                task.ran += 1;
            }
            task.passed += usize::from(passed);
            if outcome.extra {
                task.has_extra = true;
                task.extra_earned += if passed { outcome.points } else { 0 };
            } else if left_out(outcome) {
                task.left_out += outcome.points;
            } else {
                task.total += outcome.points;
                task.earned += if passed { outcome.points } else { 0 };
            }
        }
        let count = |status: Status| {
            outcomes
                .iter()
                .filter(|outcome| outcome.status == status)
                .count()
        };
        Score {
            earned: tasks.iter().map(|task| task.earned).sum(),
            total: tasks.iter().map(|task| task.total).sum(),
            left_out: tasks.iter().map(|task| task.left_out).sum(),
            extra_earned: tasks.iter().map(|task| task.extra_earned).sum(),
            tasks,
            passed: count(Status::Pass),
            failed: outcomes
                .iter()
                .filter(|outcome| outcome.status.is_failure())
                .count(),
            skipped: count(Status::Skipped),
            missed: count(Status::Missed),
        }
    }
}

impl Score {
    /// The most a submission could have earned in this run: the total of what it was
    /// graded on, and what its tasks with no program were worth. The grading platforms'
    /// maximum (PrairieLearn's fraction, GitHub Classroom's `max_score`).
    pub fn maximum(&self, info: &SubmissionInfo) -> u32 {
        self.total + info.not_submitted_points.values().sum::<u32>()
    }

    /// `13 passed, 3 failed` (and `, 1 skipped`, `, 1 extra missed` when there are any).
    pub fn counts(&self) -> String {
        let mut text = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        if self.missed > 0 {
            text.push_str(&format!(", {} extra missed", self.missed));
        }
        text
    }

    /// `38/45 points` (and ` (+1 extra)` when a task has extra scenarios): out of what
    /// the submission was graded on.
    pub fn points(&self) -> String {
        self.points_out_of(self.total)
    }

    /// `38/50 points`: out of [`Score::maximum`], the one maximum a class's reports share
    /// (the terminal's line per submission, the HTML index, the gradebook).
    pub fn points_of(&self, info: &SubmissionInfo) -> String {
        self.points_out_of(self.maximum(info))
    }

    fn points_out_of(&self, maximum: u32) -> String {
        let mut text = format!("{}/{maximum} points", self.earned);
        if self.tasks.iter().any(|task| task.has_extra) {
            text.push_str(&format!(" (+{} extra)", self.extra_earned));
        }
        text
    }
}

/// `1 point`, `2 points`.
pub fn points(count: u32) -> String {
    if count == 1 {
        "1 point".into()
    } else {
        format!("{count} points")
    }
}

/// How a skipped scenario counts, in words for the student: `not counted: ...` when this
/// run could not play it, `2 points lost: ...` when the submission lacks a program.
pub fn skip_note(outcome: &Outcome) -> String {
    let worth = points(outcome.points);
    if outcome.extra {
        format!("none lost: an optional part, worth {worth} of extra")
    } else if left_out(outcome) {
        format!(
            "not counted: this grading could not run it, so the maximum leaves out its \
             {worth}"
        )
    } else {
        format!("{worth} lost: the scenario needs that program")
    }
}
