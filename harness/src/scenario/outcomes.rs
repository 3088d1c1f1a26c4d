//! The outcomes a scenario starts from, before or instead of a run: its own fields over a
//! blank outcome ([`ScenarioOutcome::of`]), skipped, not submitted, or the harness's own trouble.
//! Here rather than in `crate::outcome` so that the outcome model (the `run-record`
//! crate) needs nothing of the scenario files: a trait of the harness's own, since the
//! model is another crate's type.

use crate::outcome::{Failure, Outcome, SkipKind, Status};

use super::Scenario;

/// The outcomes a scenario starts from (implemented for [`Outcome`]).
pub trait ScenarioOutcome {
    /// `scenario`'s outcome with `status` and nothing more yet: no failure, no record.
    fn of(scenario: &Scenario, status: Status) -> Outcome;

    /// A scenario this run cannot play (see [`SkipKind::CannotRun`]): its points leave the
    /// maximum.
    fn skipped(scenario: &Scenario, seed: u64, reason: String) -> Outcome;

    /// A scenario not run because the submission lacks `missing` (programs it needs): its
    /// points stay in the maximum, lost (see [`SkipKind::NotSubmitted`]).
    fn not_submitted(scenario: &Scenario, seed: u64, missing: &[String]) -> Outcome;

    /// A scenario the harness could not run (its own trouble, not the program's).
    fn harness_error(scenario: &Scenario, seed: u64, message: String) -> Outcome;
}

impl ScenarioOutcome for Outcome {
    fn of(scenario: &Scenario, status: Status) -> Outcome {
        Outcome {
            task: scenario.task.clone(),
            clauses: scenario.clauses.clone(),
            category: scenario.category,
            points: scenario.points,
            extra: scenario.extra,
            requirement: scenario.requirement.clone(),
            hint: scenario.hint.clone(),
            status,
            visibility: scenario.visibility,
            ..Outcome::blank(&scenario.id)
        }
    }

    fn skipped(scenario: &Scenario, seed: u64, reason: String) -> Outcome {
        Outcome {
            skip_reason: Some(reason),
            skip_kind: Some(SkipKind::CannotRun),
            seed,
            ..Outcome::of(scenario, Status::Skipped)
        }
    }

    fn not_submitted(scenario: &Scenario, seed: u64, missing: &[String]) -> Outcome {
        let mut outcome = Outcome::skipped(
            scenario,
            seed,
            format!("{} not submitted", missing.join(", ")),
        );
        outcome.skip_kind = Some(SkipKind::NotSubmitted);
        outcome
    }

    fn harness_error(scenario: &Scenario, seed: u64, message: String) -> Outcome {
        Outcome {
            failure: Some(Failure {
                step: 0,
                line: 0,
                action: String::new(),
                expected: "the harness to run this scenario".into(),
                seen: message,
                diff: None,
                cause: None,
            }),
            seed,
            ..Outcome::of(scenario, Status::Error)
        }
    }
}
