//! # What the user sees
//!
//! Every output of the harness is a [`Reporter`] of the same [`Event`]s: the terminal
//! report, the recording (`--record`), JSON, JUnit, the grading platforms' documents
//! (Gradescope, PrairieLearn, GitHub Classroom), HTML, the packet captures and the
//! gradebook. A [`Reporters`] set feeds each event to a [`Collector`] first, which
//! rebuilds the run (submissions, their outcomes with step log and transcript), then to
//! every reporter; a live reporter acts on the event, a file reporter writes at the end from
//! the collected [`RunRecord`]. A recorded run replays through the same set.
//!
//! This crate depends on the harness's engine only through the record of a run (the
//! `run-record` crate: events, outcomes, transcripts, the wire), so a reporter is written
//! and tested against recorded runs alone. The harness re-exports it as `harness::report`.

mod blame;
pub mod classroom;
pub mod console;
pub mod csv_text;
pub mod diagnosis;
pub mod error;
pub mod explain;
pub mod gradebook;
pub mod gradescope;
pub mod html;
pub mod json;
pub mod junit;
pub mod new_file;
pub mod pcap_files;
pub mod prairielearn;
pub mod record;
pub mod score;
#[cfg(test)]
mod snapshot_tests;
pub mod terminal;

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use run_record::events::{Event, EventSink, RunInfo, SubmissionInfo};
use run_record::outcome::Outcome;
use run_record::repeat::Repetitions;

pub use console::{Console, Verbosity};
pub use error::{Error, Result};
pub use record::{Recorder, replay};
pub use score::Score;
pub use terminal::{Style, TerminalReport};

/// A run as far as the events told it.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    /// What the run grades (from `run-started`).
    pub info: Option<RunInfo>,
    /// Every submission, in the order they started.
    pub submissions: Vec<SubmissionRecord>,
    /// Wall time of the run, once finished.
    pub elapsed: Option<Duration>,
}

/// One submission of a run.
#[derive(Debug, Clone)]
pub struct SubmissionRecord {
    /// Its label and what it grades.
    pub info: SubmissionInfo,
    /// Its verdicts so far, in the order they came, each with its step log, transcript and
    /// flows (the wire's bytes are not kept: the capture reporter writes them as they come).
    pub outcomes: Vec<Outcome>,
    /// With `--repeat N`: what every repetition of each scenario did, by scenario id (a
    /// scenario run once, or skipped, has none).
    pub repetitions: BTreeMap<String, Repetitions>,
    /// Its grading time, once finished.
    pub elapsed: Option<Duration>,
}

impl SubmissionRecord {
    /// What every repetition of the scenario `id` did, when it ran more than once.
    pub fn repetitions_of(&self, id: &str) -> Option<&Repetitions> {
        self.repetitions.get(id)
    }

    /// Its scenarios whose verdict changed from one repetition to another, in the order
    /// they ran.
    pub fn flaky(&self) -> Vec<&Outcome> {
        self.outcomes
            .iter()
            .filter(|outcome| {
                self.repetitions_of(&outcome.id)
                    .is_some_and(Repetitions::is_flaky)
            })
            .collect()
    }
}

impl RunRecord {
    /// How many times each scenario ran (`--repeat N`; 1 without it).
    pub fn repeat(&self) -> u32 {
        self.info.as_ref().map_or(1, |info| info.repeat)
    }

    /// Whether the run grades more than one submission.
    pub fn is_batch(&self) -> bool {
        self.info
            .as_ref()
            .is_some_and(|info| info.submissions.len() > 1)
    }

    /// Where a scenario's capture goes, relative to the capture folder:
    /// `<task>/<name>.pcap`, in a folder per submission when the run grades several.
    pub fn pcap_path(&self, submission: &str, id: &str) -> std::path::PathBuf {
        let mut path = std::path::PathBuf::new();
        if self.is_batch() {
            path.push(file_name_of(submission));
        }
        for part in id.split('/') {
            path.push(file_name_of(part));
        }
        path.set_extension("pcap");
        path
    }

    /// The submission labelled `label`.
    pub fn submission(&self, label: &str) -> Option<&SubmissionRecord> {
        self.submissions
            .iter()
            .find(|record| record.info.submission == label)
    }
}

/// A label as one file name: letters, digits, `.`, `-` and `_` kept, anything else
/// (path separators included) as `_`; never `.` or `..`.
pub fn file_name_of(label: &str) -> String {
    let name: String = label
        .trim_start_matches(['/', '.'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() { "_".into() } else { name }
}

/// Keeps a [`RunRecord`] of the events so far.
#[derive(Debug, Default)]
pub struct Collector {
    run: RunRecord,
}

impl Collector {
    /// The run so far.
    pub fn run(&self) -> &RunRecord {
        &self.run
    }

    /// Takes one event into the record.
    pub fn take(&mut self, event: &Event) {
        match event {
            Event::RunStarted(info) => self.run.info = Some(info.clone()),
            Event::SubmissionStarted(info) => self.run.submissions.push(SubmissionRecord {
                info: info.clone(),
                outcomes: Vec::new(),
                repetitions: BTreeMap::new(),
                elapsed: None,
            }),
            Event::ScenarioStarted { .. } => {}
            Event::Verdict {
                submission,
                outcome,
                repetitions,
            } => {
                let mut kept = Outcome::clone(outcome);
                // The bytes are for the capture reporter, which had them with this event;
                // who talked to whom (the flows, with both ends' names) stays, for drawing it.
                kept.wire.records = Vec::new();
                if let Some(record) = self.submission_mut(submission) {
                    if let Some(repetitions) = repetitions {
                        record
                            .repetitions
                            .insert(kept.id.clone(), repetitions.clone());
                    }
                    record.outcomes.push(kept);
                }
            }
            Event::SubmissionFinished {
                submission,
                elapsed,
            } => {
                if let Some(record) = self.submission_mut(submission) {
                    record.elapsed = Some(*elapsed);
                }
            }
            Event::RunFinished { elapsed } => self.run.elapsed = Some(*elapsed),
        }
    }

    fn submission_mut(&mut self, label: &str) -> Option<&mut SubmissionRecord> {
        self.run
            .submissions
            .iter_mut()
            .find(|record| record.info.submission == label)
    }
}

/// An output of the harness, fed every event of a run.
pub trait Reporter {
    /// Takes one event; `run` already includes it. Live reporters act here.
    fn event(&mut self, _event: &Event, _run: &RunRecord) -> io::Result<()> {
        Ok(())
    }

    /// The run is over (or the recording ended): write what is left.
    fn finish(&mut self, run: &RunRecord) -> io::Result<()>;
}

/// How a [`FileReport`] turns the collected run into its file's contents.
type Render<Contents> = Box<dyn Fn(&RunRecord) -> io::Result<Contents>>;

/// A report written whole when the run is over (JSON, JUnit, the grading platforms'
/// documents, the gradebook): `render` turns the collected run into the file's contents.
pub struct FileReport<Contents> {
    path: std::path::PathBuf,
    render: Render<Contents>,
}

impl<Contents: AsRef<[u8]>> FileReport<Contents> {
    /// Renders into `path` at the end; `render` may carry options (Gradescope's
    /// visibility rules).
    pub fn new(
        path: std::path::PathBuf,
        render: impl Fn(&RunRecord) -> io::Result<Contents> + 'static,
    ) -> Self {
        FileReport {
            path,
            render: Box::new(render),
        }
    }
}

impl<Contents: AsRef<[u8]>> Reporter for FileReport<Contents> {
    fn finish(&mut self, run: &RunRecord) -> io::Result<()> {
        new_file::write(&self.path, (self.render)(run)?)
    }
}

/// The reporters of a run, with the collector they share.
pub struct Reporters {
    collector: Collector,
    reporters: Vec<(String, Box<dyn Reporter>)>,
    /// The first write error, with the reporter's name; later events still reach the others.
    error: Option<(String, io::Error)>,
}

impl Reporters {
    /// An empty set.
    pub fn new() -> Reporters {
        Reporters {
            collector: Collector::default(),
            reporters: Vec::new(),
            error: None,
        }
    }

    /// Adds a reporter, named for error messages (`--json report.json`).
    pub fn add(&mut self, name: impl Into<String>, reporter: impl Reporter + 'static) {
        self.reporters.push((name.into(), Box::new(reporter)));
    }

    /// The run so far.
    pub fn run(&self) -> &RunRecord {
        self.collector.run()
    }

    /// Finishes every reporter; the first error says which output could not be written.
    pub fn finish(mut self) -> crate::error::Result<RunRecord> {
        for (name, reporter) in &mut self.reporters {
            if let Err(error) = reporter.finish(self.collector.run())
                && self.error.is_none()
            {
                self.error = Some((name.clone(), error));
            }
        }
        match self.error {
            Some((name, source)) => Err(crate::error::Error::Io {
                context: format!("cannot write {name}"),
                source,
            }),
            None => Ok(self.collector.run),
        }
    }
}

impl Default for Reporters {
    fn default() -> Self {
        Reporters::new()
    }
}

impl EventSink for Reporters {
    fn emit(&mut self, mut event: Event) {
        // What a submission chose (names, command lines, what a step saw) reaches no
        // reporter with a raw control character in it.
        event.make_printable();
        self.collector.take(&event);
        for (name, reporter) in &mut self.reporters {
            if let Err(error) = reporter.event(&event, self.collector.run())
                && self.error.is_none()
            {
                self.error = Some((name.clone(), error));
            }
        }
    }
}

/// The terminal report's details as plain text (no colour), for documents a student reads
/// on a grading platform.
pub(crate) fn plain_details(run: &RunRecord, submission: &SubmissionRecord) -> TerminalReport {
    TerminalReport {
        style: Style {
            color: false,
            timings: true,
        },
        replay_command: submission.info.replay_command.clone(),
        simulated: run
            .info
            .as_ref()
            .is_some_and(|info| info.world == run_record::events::WorldKind::Simulated),
    }
}

/// A submission's outcomes task by task (tasks in the order they came), each with its
/// `<task>.<scenario>` number, both 1-based: the order the grading platforms list tests in.
pub(crate) fn numbered_by_task(submission: &SubmissionRecord) -> Vec<(String, &Outcome)> {
    let mut numbered = Vec::new();
    for (task_number, task) in Score::of(&submission.outcomes).tasks.iter().enumerate() {
        let of_task = submission
            .outcomes
            .iter()
            .filter(|outcome| outcome.task == task.task);
        for (index, outcome) in of_task.enumerate() {
            numbered.push((format!("{}.{}", task_number + 1, index + 1), outcome));
        }
    }
    numbered
}

/// A verdict on one line, for a platform's short message under a test: `passed in 0.31s`,
/// for a failure its first sentence (what is wrong, in which program, and what to do:
/// [`diagnosis`]) then `(fail at step 4: expected … / seen …)` (after the failure's cause,
/// when it has one), `skipped: … (not counted: …)`.
pub(crate) fn verdict_line(outcome: &Outcome) -> String {
    use run_record::outcome::Status;
    // A platform shows this line as is: long byte excerpts belong in the details.
    let short = |text: &str| diagnosis::shortened(text, 300);
    let evidence = |word: &str| match &outcome.failure {
        Some(failure) => format!(
            "{word} at step {}: {}expected {} / seen {}",
            failure.step,
            failure
                .cause
                .as_ref()
                .map_or(String::new(), |cause| format!("{}; ", short(cause))),
            short(&failure.expected),
            short(&failure.seen)
        ),
        None => word.to_owned(),
    };
    let failure = |word: &str| match diagnosis::sentence(outcome) {
        Some(sentence) => format!("{sentence} ({})", evidence(word)),
        None => evidence(word),
    };
    match outcome.status {
        Status::Pass => format!(
            "passed in {}s",
            run_record::encoding::decimal_seconds(outcome.duration, 2)
        ),
        Status::Fail | Status::Timeout | Status::Error => {
            failure(json::status_word(outcome.status))
        }
        Status::Missed => format!(
            "extra credit not earned (an optional part: it costs nothing): {}",
            failure("missed")
        ),
        Status::Skipped => format!(
            "skipped: {} ({})",
            outcome.skip_reason.as_deref().unwrap_or("not run"),
            score::skip_note(outcome)
        ),
    }
}
