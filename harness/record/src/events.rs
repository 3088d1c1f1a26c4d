//! What a grading run tells the world: a stream of [`Event`]s.
//!
//! The engine and the grader emit events; every output of the harness (the terminal
//! report, JSON, JUnit, Gradescope, HTML, packet captures, the gradebook) is a reporter of
//! the same events (see the `harness-reports` crate). `--record FILE` writes them as JSON lines, one
//! event per line, and `harness replay FILE` plays a recorded run back into any reporter,
//! so a run graded once can be reported again in another format without running anything.
//!
//! For one submission the order is: `submission-started`, then for each scenario
//! `scenario-started` and its `verdict`, then `submission-finished`. A run wraps one or
//! more submissions in `run-started` and `run-finished`; with `--jobs N` the events of
//! different submissions interleave, each event naming its submission.
//!
//! A verdict carries its scenario's record whole: the outcome with its step log, its
//! transcript and the bytes behind its packet capture, as the engine produced it, so a
//! reporter reads one record and nothing is taken apart to be put together again. (The
//! engine keeps them while the scenario runs, in its own task, so a recording has the same
//! order whatever the timing was.)
//!
//! The recorded format carries a version ([`RECORD_VERSION`]); `replay` reads it and the
//! versions before it, and refuses a later one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;

use crate::repeat::Repetitions;

/// Version of the recorded event format (`--record`). 2: `run-started` says how many
/// times each scenario ran (`repeat`), and a `verdict` what every repetition did
/// (`repetitions`): a harness reading version 1 would drop them and report no flaky
/// scenario. 3: a `verdict` carries the step log, the transcript and the capture's bytes
/// in its outcome, where versions 1 and 2 sent them as `step`, `transcript-chunk` and
/// `capture` events before it (`replay` folds those into their verdict).
pub const RECORD_VERSION: u32 = 3;

/// The oldest recorded format `replay` reads (a version 1 recording has no repetitions).
pub const OLDEST_RECORD_VERSION: u32 = 1;

/// One thing that happened during a grading run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The run begins: what is graded, how, with which seed.
    RunStarted(RunInfo),
    /// Grading of one submission begins.
    SubmissionStarted(SubmissionInfo),
    /// A scenario begins.
    ScenarioStarted {
        /// The submission's name.
        submission: String,
        /// The scenario's id (`message/01-hello`).
        id: String,
        /// 1-based, among the submission's scenarios that run.
        index: usize,
        /// How many of the submission's scenarios run.
        total: usize,
    },
    /// A scenario's verdict, with its whole record: step log, transcript, capture.
    Verdict {
        /// The submission's name.
        submission: String,
        /// What the scenario produced (the first repetition that did not pass, with `--repeat`).
        outcome: Box<Outcome>,
        /// With `--repeat N`: what every repetition did (`outcome` is the first that did
        /// not pass, else the first). `None` for a scenario run once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repetitions: Option<Repetitions>,
    },
    /// A submission is graded.
    SubmissionFinished {
        /// The submission's name.
        submission: String,
        /// Wall time (simulated time in the simulated world).
        #[serde(with = "crate::encoding::micros")]
        elapsed: Duration,
    },
    /// The run is over.
    RunFinished {
        /// Wall time of the whole run.
        #[serde(with = "crate::encoding::micros")]
        elapsed: Duration,
    },
}

/// What a run grades, and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// [`RECORD_VERSION`] of the recording.
    pub record_version: u32,
    /// The harness's version.
    pub harness_version: String,
    /// The seed of every slice plan and fault (of the first repetition, with `repeat`).
    pub seed: u64,
    /// How many times each scenario runs (`--repeat N`; 1 without it): repetition `k`
    /// (from 0) has the seed `seed + k`.
    #[serde(default = "once", skip_serializing_if = "is_once")]
    pub repeat: u32,
    /// `real` (processes on this machine) or `simulated` (the reference in turmoil).
    pub world: WorldKind,
    /// The command line that replays the run, without `--seed` and patterns.
    pub replay_command: String,
    /// Submissions in the order given.
    pub submissions: Vec<String>,
    /// How many submissions are graded at once; with `repeat`, how many runs of one
    /// scenario.
    pub jobs: usize,
    /// How the submissions are kept apart when graded at once.
    pub isolation: Isolation,
    /// The sandbox around each program, as the header says it (`sandbox: ...`): the
    /// layers in force and those this system refused. `None` in the simulated world.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
    /// The ids of the sandbox's layers this system refused (`view`, `memory-cap`...:
    /// `sandbox::Layers::not_here`), for scripts; empty where all are on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sandbox_not_here: Vec<String>,
    /// Who plays the peers a pack lets the run choose (`MySQL server: a real MariaDB
    /// ...`), as the header says it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
    /// When the run began, in milliseconds since the Unix epoch (0 in the simulated
    /// world, whose runs replay byte for byte).
    pub started_unix_ms: u64,
}

fn once() -> u32 {
    1
}

fn is_once(repeat: &u32) -> bool {
    *repeat == 1
}

/// Where the programs ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorldKind {
    /// Child processes over this machine's loopback.
    Real,
    /// The reference's functions on turmoil's simulated hosts.
    Simulated,
}

/// How scenarios (and submissions graded at once) are kept apart on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// Nothing to keep apart (the simulated world: every scenario has its own simulation).
    None,
    /// Each scenario in its own network namespace (its own loopback, its own ports).
    NetworkNamespace,
    /// One shared loopback; every port comes from one allocator that never hands a port out
    /// twice, and a port a program hard-codes is waited for while in TIME_WAIT.
    PortAllocator,
}

/// One submission of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionInfo {
    /// Its label (the folder as given, or `reference`).
    pub submission: String,
    /// The command that regrades it (`harness --target DIR`).
    pub replay_command: String,
    /// Scenarios that will run (or be skipped) for it.
    pub scenarios: usize,
    /// Selected tasks it has no program for.
    pub not_submitted: Vec<String>,
    /// What each task of `not_submitted` was worth (its selected required scenarios that
    /// this world can play) when the selection named the tasks (`--task`, patterns): a
    /// grading platform's maximum includes them, since a task asked for and left out is
    /// points lost. Empty when every task found is graded, and in older recordings.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub not_submitted_points: std::collections::BTreeMap<String, u32>,
    /// Why nothing of it could be graded (a `submission.toml` that does not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Where events go: a recorder, the reporters, a test's list.
pub trait EventSink {
    /// Takes one event.
    fn emit(&mut self, event: Event);
}

impl<F: FnMut(Event)> EventSink for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// A sink that drops every event (tests that only look at the returned grading).
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl EventSink for Discard {
    fn emit(&mut self, _: Event) {}
}

/// The event that tells what `outcome` was, after its `scenario-started`.
pub fn verdict(submission: &str, outcome: Outcome) -> Event {
    repeated_verdict(submission, outcome, None)
}

/// [`verdict`] of a scenario run more than once (`--repeat`): `outcome` is the repetition
/// shown, `repetitions` what every one did.
pub fn repeated_verdict(
    submission: &str,
    outcome: Outcome,
    repetitions: Option<Repetitions>,
) -> Event {
    Event::Verdict {
        submission: submission.to_owned(),
        outcome: Box::new(outcome),
        repetitions,
    }
}

impl Event {
    /// Every text of the event with its control characters escaped ([`crate::escape`]), as
    /// every reporter shows it: a submission's folder name, a command line of its
    /// `submission.toml`, a name it asked for, an error quoting its manifest, reach the
    /// terminal, the step log and every report file as `\x1b`, `\n`, `\u{202e}`, never raw.
    /// `harness_reports::Reporters` applies it to each event before any reporter (a
    /// replayed recording included). Escaping twice is escaping once.
    pub fn make_printable(&mut self) {
        use crate::escape::{escape, escape_lines};
        match self {
            Event::RunStarted(info) => {
                escape(&mut info.harness_version);
                escape(&mut info.replay_command);
                info.submissions.iter_mut().for_each(escape);
                if let Some(sandbox) = &mut info.sandbox {
                    escape_lines(sandbox);
                }
                info.servers.iter_mut().for_each(escape_lines);
            }
            Event::SubmissionStarted(info) => {
                escape(&mut info.submission);
                escape(&mut info.replay_command);
                info.not_submitted.iter_mut().for_each(escape);
                info.not_submitted_points = std::mem::take(&mut info.not_submitted_points)
                    .into_iter()
                    .map(|(mut task, points)| {
                        escape(&mut task);
                        (task, points)
                    })
                    .collect();
                // An error's own lines (several bad files) stay; what it quotes is escaped
                // where the error is made (`crate::error`).
                if let Some(problem) = &mut info.problem {
                    escape_lines(problem);
                }
            }
            Event::ScenarioStarted { submission, id, .. } => {
                escape(submission);
                escape(id);
            }
            Event::Verdict {
                submission,
                outcome,
                repetitions,
            } => {
                escape(submission);
                outcome.make_printable();
                for run in repetitions.iter_mut().flat_map(|runs| runs.runs.iter_mut()) {
                    if let Some(failure) = &mut run.failure {
                        failure.make_printable();
                    }
                }
            }
            Event::SubmissionFinished { submission, .. } => escape(submission),
            Event::RunFinished { .. } => {}
        }
    }
}
