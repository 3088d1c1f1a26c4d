//! `memory = "server"`: the program's peak memory, measured (real world only) — marked
//! once, then compared: SPEC pass/2 "a line of tens of megabytes costs the server no more
//! memory than a short one".
//!
//! ```toml
//! [[step]]
//! memory = "server"
//! mark = "short"            # its peak memory now, kept under this name
//!
//! # ... a 16 MiB line sent on a connection still open ...
//!
//! [[step]]
//! memory = "server"
//! since = "short"
//! grows_at_most_mib = 6     # fails if the peak grew more since the mark
//! ```
//!
//! The peak of a running program is the sum of the peak resident set sizes (`VmHWM`) of
//! its live processes: keep the connection that would make it grow open until the
//! comparison, or a forked child holding the line is gone before it is measured. A program
//! that has ended is measured by its exit (`wait4`'s `ru_maxrss`): a client run twice, on a
//! small input and on a large one, compares the two whole runs (SPEC ftp/1: a file read and
//! sent in fixed-size pieces).
//!
//! ```toml
//! [[step]]
//! memory = "small-client"   # ended: its whole run's peak
//! mark = "small file"
//!
//! [[step]]
//! memory = "client"
//! since = "small file"
//! grows_at_most_mib = 6
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::outcome::{Status, StepFailure};

pub(crate) const KIND: StepKind = StepKind {
    key: "memory",
    load,
    schema: super::schema_of::<RawMemory>,
};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMemory {
    /// The program measured.
    memory: String,
    /// Keep its peak memory now under this name.
    mark: Option<String>,
    /// Compare with the peak kept under this name.
    since: Option<String>,
    /// With `since`: the most the peak may have grown, in MiB.
    grows_at_most_mib: Option<u64>,
}

#[derive(Debug)]
enum Measure {
    Mark(String),
    Compare { since: String, at_most: u64 },
}

#[derive(Debug)]
struct Memory {
    program: String,
    measure: Measure,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawMemory::deserialize(input.table)?;
    let program = input.names.program(&raw.memory)?;
    let measure = match (raw.mark, raw.since, raw.grows_at_most_mib) {
        (Some(mark), None, None) => Measure::Mark(mark),
        (None, Some(since), Some(mib)) => Measure::Compare {
            since,
            at_most: mib << 20,
        },
        _ => {
            return Err(
                "`memory` takes either `mark = NAME`, or `since = NAME` with `grows_at_most_mib`"
                    .into(),
            );
        }
    };
    Ok(Arc::new(Memory { program, measure }))
}

/// `bytes` as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

impl StepAction for Memory {
    fn describe(&self) -> String {
        match &self.measure {
            Measure::Mark(mark) => {
                format!("measure {}'s peak memory (mark `{mark}`)", self.program)
            }
            Measure::Compare { since, at_most } => format!(
                "check {}'s peak memory grew by at most {} since mark `{since}`",
                self.program,
                mib(*at_most)
            ),
        }
    }

    fn real_only(&self) -> Option<String> {
        Some("memory is measured on real processes (their VmHWM); a simulated host has none".into())
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let Some(peak) = context.peak_memory(&self.program) else {
                return Err(StepFailure {
                    status: Status::Fail,
                    expected: format!("{} started, to measure its memory", self.program),
                    seen: format!(
                        "no figure for {}: its processes could not be read and it has reported no exit",
                        self.program
                    ),
                    diff: None,
                });
            };
            match &self.measure {
                Measure::Mark(mark) => {
                    context.note(format!("{}'s peak memory: {}", self.program, mib(peak)));
                    context.memory_marks().insert(mark.clone(), peak);
                    Ok(())
                }
                Measure::Compare { since, at_most } => {
                    let Some(&before) = context.memory_marks().get(since) else {
                        return Err(StepFailure {
                            status: Status::Error,
                            expected: format!("a memory mark `{since}` made by an earlier step"),
                            seen: "none was made (a scenario error)".into(),
                            diff: None,
                        });
                    };
                    let grown = peak.saturating_sub(before);
                    context.note(format!(
                        "{}'s peak memory: {} (was {} at mark `{since}`)",
                        self.program,
                        mib(peak),
                        mib(before)
                    ));
                    if grown <= *at_most {
                        Ok(())
                    } else {
                        Err(StepFailure {
                            status: Status::Fail,
                            expected: format!(
                                "{}'s peak memory to grow by at most {} since mark `{since}`",
                                self.program,
                                mib(*at_most)
                            ),
                            seen: format!(
                                "it grew by {}, from {} to {}: it holds the whole data at once instead of going through it in a bounded buffer",
                                mib(grown),
                                mib(before),
                                mib(peak)
                            ),
                            diff: None,
                        })
                    }
                }
            }
        })
    }
}
