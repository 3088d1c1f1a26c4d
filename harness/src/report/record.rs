//! `--record FILE`: the run's events as JSON lines, and `harness replay FILE`, which plays
//! them back into any reporter.
//!
//! A recording is complete enough to write every report again, packet captures included
//! (the `capture` events carry the bytes the harness's sockets moved). The first line is
//! `run-started`, which carries the format's version; a recording of another version, a line
//! that is not an event, or a recording that does not start with `run-started` is refused
//! with the file and line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Reporter, RunRecord};
use crate::events::{Event, EventSink, RECORD_VERSION};
use crate::{Error, Result};

/// Writes every event as one line of JSON.
pub struct Recorder {
    out: BufWriter<File>,
}

impl Recorder {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> io::Result<Recorder> {
        Ok(Recorder {
            out: BufWriter::new(File::create(path)?),
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
    let bad = |line: usize, reason: String| Error::BadFile {
        path: PathBuf::from(path),
        line,
        reason,
    };
    let file = File::open(path).map_err(Error::io(format!("cannot open {}", path.display())))?;
    let mut started = false;
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(Error::io(format!("cannot read {}", path.display())))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(&line)
            .map_err(|error| bad(number, format!("not an event of a recording: {error}")))?;
        match (&event, started) {
            (Event::RunStarted(info), false) => {
                if info.record_version != RECORD_VERSION {
                    return Err(bad(
                        number,
                        format!(
                            "recorded in format version {}, this harness reads version {RECORD_VERSION}",
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
        sink.emit(event);
    }
    if !started {
        return Err(bad(1, "the recording is empty".into()));
    }
    Ok(())
}
