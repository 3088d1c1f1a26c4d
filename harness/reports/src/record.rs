//! `--record FILE`: the run's events as JSON lines, and `harness replay FILE`, which plays
//! them back into any reporter.
//!
//! A recording is complete enough to write every report again, packet captures included
//! (each `verdict` carries the bytes the harness's sockets moved). The first line is
//! `run-started`, which carries the format's version; a recording of a later version than
//! this harness writes, a line that is not an event, or a recording that does not start with
//! `run-started` is refused with the file and line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{Reporter, RunRecord};
use crate::error::{Error, Result};
use run_record::events::{Event, EventSink, OLDEST_RECORD_VERSION, RECORD_VERSION, RunInfo};
use run_record::outcome::LogLine;
use run_record::transcript::{TranscriptEntry, Wire};

/// The first format whose verdicts carry their scenario's record whole.
const WHOLE_VERDICTS: u32 = 3;

/// The events of formats 1 and 2 that told a scenario's record before its verdict; read
/// from those recordings only, and folded into the verdict.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
enum Told {
    Step {
        submission: String,
        id: String,
        #[serde(with = "run_record::encoding::micros")]
        at: Duration,
        text: String,
    },
    TranscriptChunk {
        submission: String,
        id: String,
        entry: TranscriptEntry,
    },
    Capture {
        submission: String,
        id: String,
        wire: Wire,
    },
}

/// What a verdict of formats 1 and 2 said beside its outcome.
#[derive(Deserialize)]
struct OlderVerdict {
    #[serde(default)]
    transcript_left_out: u64,
}

/// What a recording of formats 1 and 2 told of one scenario before its verdict.
#[derive(Default)]
struct ToldRecord {
    log: Vec<LogLine>,
    transcript: Vec<TranscriptEntry>,
    wire: Wire,
}

/// The records told so far by a recording of formats 1 and 2, by submission and id.
#[derive(Default)]
struct Folding {
    told: HashMap<(String, String), ToldRecord>,
}

impl Folding {
    fn take(&mut self, told: Told) {
        match told {
            Told::Step {
                submission,
                id,
                at,
                text,
            } => self.record(submission, id).log.push(LogLine { at, text }),
            Told::TranscriptChunk {
                submission,
                id,
                entry,
            } => self.record(submission, id).transcript.push(entry),
            Told::Capture {
                submission,
                id,
                wire,
            } => self.record(submission, id).wire = wire,
        }
    }

    fn record(&mut self, submission: String, id: String) -> &mut ToldRecord {
        self.told.entry((submission, id)).or_default()
    }

    /// The verdict `event` (read from `line`) with the record told before it.
    fn complete(&mut self, event: &mut Event, line: &str) {
        let Event::Verdict {
            submission,
            outcome,
            ..
        } = event
        else {
            return;
        };
        if let Some(told) = self.told.remove(&(submission.clone(), outcome.id.clone())) {
            outcome.log = told.log;
            outcome.transcript.0 = told.transcript;
            outcome.wire = told.wire;
        }
        if let Ok(older) = serde_json::from_str::<OlderVerdict>(line) {
            outcome.transcript.1 = older.transcript_left_out;
        }
    }
}

/// Writes every event as one line of JSON.
pub struct Recorder {
    out: BufWriter<File>,
}

impl Recorder {
    /// Creates `path` new, over whatever was there ([`crate::new_file::create`]).
    pub fn create(path: &Path) -> io::Result<Recorder> {
        Ok(Recorder {
            out: BufWriter::new(crate::new_file::create(path)?),
        })
    }
}

impl Reporter for Recorder {
    fn event(&mut self, event: &Event, _: &RunRecord) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        // Every event reaches the file at once: an interrupted run (Ctrl-C) keeps what it
        // graded, and `replay` reports it.
        self.out.flush()
    }

    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        self.out.flush()
    }
}

/// Plays the recording at `path` into `sink`, event by event.
pub fn replay(path: &Path, sink: &mut dyn EventSink) -> Result<()> {
    read(path, &mut |event| {
        sink.emit(event);
        true
    })
}

/// What the recording at `path` grades and how (its `run-started` event), read before
/// replaying it: a report that cannot describe it is refused before anything is printed.
pub fn recorded_run(path: &Path) -> Result<RunInfo> {
    let mut info = None;
    read(path, &mut |event| {
        if let Event::RunStarted(run) = event {
            info = Some(run);
        }
        false
    })?;
    info.ok_or_else(|| Error::BadFile {
        path: PathBuf::from(path),
        line: 1,
        reason: "the recording is empty".into(),
    })
}

/// Reads the recording at `path`, passing each event to `take` until it returns `false`.
fn read(path: &Path, take: &mut dyn FnMut(Event) -> bool) -> Result<()> {
    let bad = |line: usize, reason: String| Error::BadFile {
        path: PathBuf::from(path),
        line,
        reason,
    };
    let file = File::open(path).map_err(Error::io(format!("cannot open {}", path.display())))?;
    let mut started = false;
    // Formats before 3 told a scenario's record in events before its verdict.
    let mut folding: Option<Folding> = None;
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(Error::io(format!("cannot read {}", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(folding) = &mut folding
            && let Ok(told) = serde_json::from_str::<Told>(&line)
        {
            folding.take(told);
            continue;
        }
        let mut event: Event = serde_json::from_str(&line)
            .map_err(|error| bad(number, format!("not an event of a recording: {error}")))?;
        if let Some(folding) = &mut folding {
            folding.complete(&mut event, &line);
        }
        match (&event, started) {
            (Event::RunStarted(info), false) => {
                if info.record_version < WHOLE_VERDICTS {
                    folding = Some(Folding::default());
                }
                if !(OLDEST_RECORD_VERSION..=RECORD_VERSION).contains(&info.record_version) {
                    return Err(bad(
                        number,
                        format!(
                            "recorded in format version {}, this harness reads versions {OLDEST_RECORD_VERSION} to {RECORD_VERSION}",
                            info.record_version
                        ),
                    ));
                }
                started = true;
            }
            (_, false) => {
                return Err(bad(
                    number,
                    "a recording starts with a `run-started` event (was it written by --record?)"
                        .into(),
                ));
            }
            _ => {}
        }
        if !take(event) {
            return Ok(());
        }
    }
    if !started {
        return Err(bad(1, "the recording is empty".into()));
    }
    Ok(())
}
