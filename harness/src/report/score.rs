//! Points, counted one way for every report: per task, then per submission.
//!
//! A scenario's points count toward its task's total; passing earns them. Extra scenarios
//! (optional parts of the spec) are not in the total, and passing one adds its points as
//! extra. Skipped scenarios count nowhere in `ran`, but their points stay in the total
//! (a missing role costs the points it would have earned).

use serde::Serialize;

use crate::engine::{Outcome, Status};

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
    /// Points of the required scenarios.
    pub total: u32,
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

    /// `38/45 points` (and ` (+1 extra)` when a task has extra scenarios).
    pub fn points(&self) -> String {
        let mut text = format!("{}/{} points", self.earned, self.total);
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
