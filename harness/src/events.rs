//! What a grading run tells the world: a stream of [`Event`]s.
//!
//! The engine and the grader emit events; every output of the harness (the terminal
//! report, JSON, JUnit, Gradescope, HTML, packet captures, the gradebook) is a reporter of
//! the same events (see [`crate::report`]). `--record FILE` writes them as JSON lines, one
//! event per line, and `harness replay FILE` plays a recorded run back into any reporter,
//! so a run graded once can be reported again in another format without running anything.
//!
//! For one submission the order is: `submission-started`, then for each scenario
//! `scenario-started`, its `step`s and `transcript-chunk`s, its `capture` (the bytes behind
//! the packet capture) and its `verdict`, then `submission-finished`. A run wraps one or
//! more submissions in `run-started` and `run-finished`; with `--jobs N` the events of
//! different submissions interleave, each event naming its submission.
//!
//! A scenario's steps and transcript are told when it ends (the engine keeps them while it
//! runs, in its own task), so a recording has the same order whatever the timing was.
//!
//! The recorded format carries a version ([`RECORD_VERSION`]); `replay` reads it and the
//! versions before it, and refuses a later one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;
use crate::peers::{TranscriptEntry, Wire};
use crate::repeat::Repetitions;

/// Version of the recorded event format (`--record`). 2: `run-started` says how many
/// times each scenario ran (`repeat`), and a `verdict` what every repetition did
/// (`repetitions`): a harness reading version 1 would drop them and report no flaky
/// scenario.
pub const RECORD_VERSION: u32 = 2;

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
        submission: String,
        id: String,
        /// 1-based, among the submission's scenarios that run.
        index: usize,
        total: usize,
    },
    /// A line of a scenario's step log (what the harness did, and when).
    Step {
        submission: String,
        id: String,
        #[serde(with = "crate::encoding::micros")]
        at: Duration,
        text: String,
    },
    /// An entry of a scenario's transcript (what moved on a connection).
    TranscriptChunk {
        submission: String,
        id: String,
        entry: TranscriptEntry,
    },
    /// Every byte the harness's sockets moved in a scenario, for its packet capture.
    Capture {
        submission: String,
        id: String,
        wire: Wire,
    },
    /// A scenario's verdict. Its step log and transcript came in the events before it.
    Verdict {
        submission: String,
        outcome: Box<Outcome>,
        /// Transcript entries that were counted but not kept.
        transcript_left_out: u64,
        /// With `--repeat N`: what every repetition did (`outcome` is the first that did
        /// not pass, else the first). `None` for a scenario run once.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repetitions: Option<Repetitions>,
    },
    /// A submission is graded.
    SubmissionFinished {
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
    pub world: World,
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
pub enum World {
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

/// The events that tell what `outcome` was, in order, after its `scenario-started`.
pub fn outcome_events(submission: &str, outcome: Outcome) -> Vec<Event> {
    repeated_outcome_events(submission, outcome, None)
}

/// [`outcome_events`] of a scenario run more than once (`--repeat`): `outcome` is the
/// repetition shown, `repetitions` what every one did.
pub fn repeated_outcome_events(
    submission: &str,
    mut outcome: Outcome,
    repetitions: Option<Repetitions>,
) -> Vec<Event> {
    let mut events = Vec::with_capacity(outcome.log.len() + outcome.transcript.0.len() + 2);
    for line in std::mem::take(&mut outcome.log) {
        events.push(Event::Step {
            submission: submission.to_owned(),
            id: outcome.id.clone(),
            at: line.at,
            text: line.text,
        });
    }
    let (entries, transcript_left_out) = std::mem::take(&mut outcome.transcript);
    for entry in entries {
        events.push(Event::TranscriptChunk {
            submission: submission.to_owned(),
            id: outcome.id.clone(),
            entry,
        });
    }
    let wire = std::mem::take(&mut outcome.wire);
    if !wire.is_empty() {
        events.push(Event::Capture {
            submission: submission.to_owned(),
            id: outcome.id.clone(),
            wire,
        });
    }
    events.push(Event::Verdict {
        submission: submission.to_owned(),
        outcome: Box::new(outcome),
        transcript_left_out,
        repetitions,
    });
    events
}
