//! `--repeat N`: each scenario run N times, to find the ones whose verdict changes (flaky).
//!
//! A conformance suite that passes a correct program only most of the time teaches students
//! to ignore it, so the harness must never flake; and a student's program that passes only
//! sometimes has a race worth finding. Repeating a scenario finds both.
//!
//! Repetition `k` (from 0) plays the scenario with the seed `S + k`, `S` the run's seed:
//! the first repetition is the plain run, and each repetition's seed replays it alone
//! (`harness ... --seed S+k 'id'`), with the same slice plans and faults (what the seed
//! cannot replay is the timing). Every repetition is a scenario run like any other, in a
//! fresh network namespace. A scenario skipped on its first repetition (a program not
//! submitted, a check this run cannot do) is not repeated: a skip is decided before
//! anything runs.
//!
//! What the reports get is one verdict per scenario, as without `--repeat`, and what every
//! repetition did ([`Repetitions`]): the outcome kept is the first repetition that did not
//! pass (its step log, transcript, capture and seed), or the first when all passed. A
//! scenario is **flaky** when some repetitions passed and others did not; one that failed
//! every time is a plain failure. A flaky scenario counts as failed (exit status 1), as
//! nextest's `flaky-result = "fail"` does: a verdict that changes is a bug, in the program or
//! in the harness.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::{Failure, Outcome, Status};

/// How many times each scenario runs, and how many of those runs go at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    /// Runs of each scenario (1: no repetition).
    pub times: u32,
    /// Runs of one scenario at once (each in its own network namespace).
    pub at_once: usize,
}

impl Repeat {
    /// Every scenario once: a plain run.
    pub const ONCE: Repeat = Repeat {
        times: 1,
        at_once: 1,
    };
}

/// The seed of repetition `index` (from 0) of a run seeded `seed`.
pub fn seed_of(seed: u64, index: u32) -> u64 {
    seed.wrapping_add(u64::from(index))
}

/// What every repetition of one scenario did, in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Repetitions {
    /// One per repetition, in order.
    pub runs: Vec<Repetition>,
}

/// One repetition of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repetition {
    /// Its seed: `--seed` with it replays this repetition.
    pub seed: u64,
    /// Its verdict.
    pub status: Status,
    /// How long it ran.
    #[serde(with = "crate::encoding::micros")]
    pub duration: Duration,
    /// What went wrong, when it did not pass.
    pub failure: Option<Failure>,
}

impl Repetitions {
    /// Repetitions that passed.
    pub fn passed(&self) -> usize {
        self.runs.iter().filter(|run| run.passed()).count()
    }

    /// Repetitions that did not pass (failed, timed out, errored, or an extra missed).
    pub fn failed(&self) -> usize {
        self.runs.len() - self.passed()
    }

    /// Some repetitions passed and others did not.
    pub fn is_flaky(&self) -> bool {
        self.passed() > 0 && self.failed() > 0
    }

    /// The seeds of the repetitions that passed (`true`) or did not (`false`), in order.
    pub fn seeds(&self, passed: bool) -> Vec<u64> {
        self.runs
            .iter()
            .filter(|run| run.passed() == passed)
            .map(|run| run.seed)
            .collect()
    }

    /// The time of every repetition, added up.
    pub fn duration(&self) -> Duration {
        self.runs.iter().map(|run| run.duration).sum()
    }
}

impl Repetition {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

/// Runs a scenario `repeat.times` times through `play` (which runs it once with the given
/// seed), `repeat.at_once` at a time; returns the outcome to report and, when it ran more
/// than once, what every repetition did.
pub fn run(
    repeat: Repeat,
    seed: u64,
    play: impl Fn(u64) -> Outcome + Sync,
) -> (Outcome, Option<Repetitions>) {
    let first = play(seed);
    if repeat.times <= 1 || first.status == Status::Skipped {
        return (first, None);
    }
    let kept = Mutex::new(Kept::new(repeat.times, first));
    let next = AtomicU32::new(1);
    std::thread::scope(|scope| {
        for _ in 0..repeat.at_once.clamp(1, repeat.times as usize) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    if index >= repeat.times {
                        return;
                    }
                    let outcome = play(seed_of(seed, index));
                    kept.lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .take(index, outcome);
                }
            });
        }
    });
    kept.into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .finish()
}

/// The repetitions so far, and the outcome worth keeping whole: the first that did not
/// pass, else the first. The others are kept as a [`Repetition`] only (an outcome holds its
/// capture's bytes, up to a few MiB).
struct Kept {
    runs: Vec<Option<Repetition>>,
    shown: (u32, Outcome),
}

impl Kept {
    fn new(times: u32, first: Outcome) -> Kept {
        let mut runs = vec![None; times as usize];
        runs[0] = Some(summary(&first));
        Kept {
            runs,
            shown: (0, first),
        }
    }

    fn take(&mut self, index: u32, outcome: Outcome) {
        self.runs[index as usize] = Some(summary(&outcome));
        let (shown_index, shown) = &self.shown;
        let earlier_failure = outcome.status != Status::Pass
            && (shown.status == Status::Pass || index < *shown_index);
        if earlier_failure {
            self.shown = (index, outcome);
        }
    }

    fn finish(self) -> (Outcome, Option<Repetitions>) {
        let runs = self.runs.into_iter().flatten().collect();
        (self.shown.1, Some(Repetitions { runs }))
    }
}

fn summary(outcome: &Outcome) -> Repetition {
    Repetition {
        seed: outcome.seed,
        status: outcome.status,
        duration: outcome.duration,
        failure: outcome.failure.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(seed: u64, status: Status) -> Outcome {
        let mut outcome = Outcome::blank("message/01-text-20k");
        outcome.seed = seed;
        outcome.status = status;
        outcome
    }

    /// Plays a scenario whose verdict on each seed is `verdicts[seed - 10]`.
    fn repeated(verdicts: &[Status], at_once: usize) -> (Outcome, Option<Repetitions>) {
        let repeat = Repeat {
            times: verdicts.len() as u32,
            at_once,
        };
        run(repeat, 10, |seed| {
            outcome(seed, verdicts[(seed - 10) as usize])
        })
    }

    #[test]
    fn repetitions_take_consecutive_seeds_from_the_runs_seed() {
        let (shown, repetitions) = repeated(&[Status::Pass; 4], 1);
        let repetitions = repetitions.expect("repeated");
        assert_eq!(repetitions.seeds(true), [10, 11, 12, 13]);
        assert!(!repetitions.is_flaky());
        assert_eq!(shown.seed, 10, "all passed: the first is shown");
    }

    #[test]
    fn a_verdict_that_changes_is_flaky_and_shows_its_first_failure() {
        use Status::{Fail, Pass, Timeout};
        for at_once in [1, 3] {
            let (shown, repetitions) = repeated(&[Pass, Pass, Timeout, Pass, Fail], at_once);
            let repetitions = repetitions.expect("repeated");
            assert!(repetitions.is_flaky());
            assert_eq!((repetitions.passed(), repetitions.failed()), (3, 2));
            assert_eq!(repetitions.seeds(false), [12, 14]);
            assert_eq!((shown.seed, shown.status), (12, Timeout));
        }
    }

    #[test]
    fn failing_every_time_is_not_flaky() {
        let (shown, repetitions) = repeated(&[Status::Fail, Status::Timeout], 2);
        assert!(!repetitions.expect("repeated").is_flaky());
        assert_eq!(shown.seed, 10);
    }

    #[test]
    fn once_or_skipped_is_not_repeated() {
        assert!(repeated(&[Status::Pass], 1).1.is_none());
        assert!(repeated(&[Status::Skipped, Status::Skipped], 1).1.is_none());
    }
}
