//! `expect_files = "client"`: what a program left in its working folder: a downloaded
//! file with exactly the expected bytes, and no file an attack would create.
//!
//! ```toml
//! [[step]]
//! expect_files = "client"
//! has = { "client_notes.txt" = { file = "fixtures/payloads/text-20k.txt" } }
//! lacks = ["client_secret.txt", "pwned"]
//! within_ms = 20000          # optional: how long a file may take to be complete
//! after_a_failure = true     # optional: judged even when an earlier step failed
//! ```
//!
//! `after_a_failure = true` makes the step the scenario's first word: when an earlier step
//! fails (the server that ran an injected command answered `0` without a line end), this
//! one is still judged, and if it fails too, its failure is the one reported (the `pwned`
//! file), with the earlier one after it.
//!
//! A file named in `has` may still be being written: the step waits until the program has
//! exited, or until every such file has the expected bytes and has stayed so for a moment,
//! or the deadline, and judges then. `lacks` is judged at once when nothing is awaited (a
//! `pwned` file that a command injection created is there as soon as the answer was), in
//! the program's folder and in the scenario's served folder (`{dir}`), if it has one: a
//! server's commands may run in either.
//!
//! The harness reads these files outside the sandbox, perhaps as root: it never follows a
//! link the program left (`client_notes.txt -> /root/.ssh/id_rsa`), nor reads anything but
//! a regular file of the folder (`crate::beneath`). Such a file fails the step, and the
//! verdict says what it is; a link named in `lacks` is there, looked at, not followed.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use std::collections::BTreeMap;

use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::beneath;
use crate::judge::diff::{byte_window_diff, window_start};
use crate::outcome::{StepFailure, harness_trouble};
use crate::payload::{Payload, PayloadSpec};

pub(crate) const KIND: StepKind = StepKind {
    key: "expect_files",
    load,
    schema: super::schema_of::<RawExpectFiles>,
};

/// How long every awaited file must stay as expected before the step passes early.
const SETTLE: Duration = Duration::from_millis(300);

/// How often the folder is looked at again.
const LOOK_AGAIN: Duration = Duration::from_millis(20);

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawExpectFiles {
    expect_files: String,
    #[serde(default)]
    has: BTreeMap<String, PayloadSpec>,
    #[serde(default)]
    lacks: Vec<String>,
    within_ms: Option<u64>,
    /// Judged even when an earlier step failed, and reported first if it fails too.
    #[serde(default)]
    after_a_failure: bool,
}

#[derive(Debug)]
struct ExpectFiles {
    program: String,
    has: Vec<(String, Payload)>,
    lacks: Vec<String>,
    within: Duration,
    after_a_failure: bool,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawExpectFiles::deserialize(input.table)?;
    let program = input.names.program(&raw.expect_files)?;
    if raw.has.is_empty() && raw.lacks.is_empty() {
        return Err("`expect_files` needs `has = { NAME = ... }` or `lacks = [NAME, ...]`".into());
    }
    for name in raw.has.keys().chain(&raw.lacks) {
        let plain = Path::new(name)
            .components()
            .all(|part| matches!(part, std::path::Component::Normal(_)));
        if name.is_empty() || !plain {
            return Err(format!(
                "`{name}`: a file of the program's folder is named without `..` or a leading `/`"
            )
            .into());
        }
    }
    let has = raw
        .has
        .into_iter()
        .map(|(name, spec)| Ok((name, spec.resolve(input.kit_root)?)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Arc::new(ExpectFiles {
        program,
        has,
        lacks: raw.lacks,
        within: super::within(raw.within_ms),
        after_a_failure: raw.after_a_failure,
    }))
}

/// How a file named in `has` compares with what it should hold.
enum Comparison {
    Missing,
    Same,
    /// It differs: the failure to report if it stays so.
    Differs(Box<StepFailure>),
}

impl StepAction for ExpectFiles {
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .has
            .iter()
            .map(|(name, payload)| format!("{name} = {}", payload.describe()))
            .collect();
        if !self.lacks.is_empty() {
            parts.push(format!("no {}", self.lacks.join(", no ")));
        }
        format!("check {}'s folder: {}", self.program, parts.join("; "))
    }

    fn judged_after_a_failure(&self) -> bool {
        self.after_a_failure
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let folder = context.folder(&self.program).ok_or_else(|| {
                harness_trouble(format!(
                    "{} has no working folder in this world",
                    self.program
                ))
            })?;
            let mut forbidden_in = vec![(folder.clone(), format!("{}'s folder", self.program))];
            if let Some(site) = context.site_folder() {
                forbidden_in.push((site, "the served folder".to_owned()));
            }
            let deadline = Instant::now() + self.within;
            let mut settled_since: Option<Instant> = None;
            loop {
                for (place, shown) in &forbidden_in {
                    self.check_lacks(place, shown)?;
                }
                let exited = context.has_exited(&self.program);
                let comparisons = self
                    .has
                    .iter()
                    .map(|(name, payload)| self.compare(&folder, payload, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let all_same = comparisons
                    .iter()
                    .all(|comparison| matches!(comparison, Comparison::Same));
                settled_since = match (all_same, settled_since) {
                    (true, None) => Some(Instant::now()),
                    (true, since) => since,
                    (false, _) => None,
                };
                let settled = settled_since.is_some_and(|since| since.elapsed() >= SETTLE);
                if self.has.is_empty() || settled || exited || Instant::now() >= deadline {
                    return self.verdict(comparisons, exited);
                }
                tokio::time::sleep(LOOK_AGAIN).await;
            }
        })
    }
}

impl ExpectFiles {
    /// Fails if a file that must not exist does (a link there counts, and is not followed).
    fn check_lacks(&self, folder: &Path, shown: &str) -> Result<(), StepFailure> {
        for name in &self.lacks {
            let expected = || format!("no file `{name}` in {shown}");
            match beneath::entry(folder, Path::new(name)) {
                Ok(None) => {}
                Ok(Some(entry)) => {
                    let what = if entry.regular {
                        format!("{} bytes", entry.len)
                    } else {
                        entry.kind.to_owned()
                    };
                    return Err(StepFailure::fail(
                        expected(),
                        format!("`{name}` is there ({what}): {}", why_forbidden(name)),
                    ));
                }
                Err(refusal) => return Err(StepFailure::fail(expected(), refusal.to_string())),
            }
        }
        Ok(())
    }

    /// The step's result from the last look at the files.
    fn verdict(&self, comparisons: Vec<Comparison>, exited: bool) -> crate::outcome::StepResult {
        for ((name, payload), comparison) in self.has.iter().zip(comparisons) {
            match comparison {
                Comparison::Same => {}
                Comparison::Differs(failure) => return Err(*failure),
                Comparison::Missing => {
                    let when = if exited {
                        "it has exited"
                    } else {
                        "the deadline"
                    };
                    return Err(StepFailure::fail(
                        format!(
                            "`{name}` in {}'s folder, holding {}",
                            self.program,
                            payload.describe()
                        ),
                        format!("no file `{name}` by the time {when}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Compares the file `name` of `folder` with `expected`, a window at a time. The file is
    /// opened as [`beneath::open_file`] opens it: a link the program left, something that is
    /// not a regular file, or a file that cannot be read is a failure that says so, never
    /// followed or read through.
    fn compare(
        &self,
        folder: &Path,
        expected: &Payload,
        name: &str,
    ) -> Result<Comparison, StepFailure> {
        let refused = |seen: String| {
            Ok(Comparison::Differs(Box::new(StepFailure::fail(
                format!(
                    "`{name}` in {}'s folder, a file holding {}",
                    self.program,
                    expected.describe()
                ),
                seen,
            ))))
        };
        let mut file = match beneath::open_file(folder, Path::new(name)) {
            Ok(file) => file,
            Err(refusal) if refusal.is_missing() => return Ok(Comparison::Missing),
            Err(refusal) => return refused(refusal.to_string()),
        };
        let seen_len = match file.metadata() {
            Ok(metadata) => metadata.len(),
            Err(error) => return refused(format!("`{name}` cannot be read: {error}")),
        };
        let expected_len = expected.len();
        let mut theirs = vec![0u8; 64 * 1024];
        let mut ours = vec![0u8; 64 * 1024];
        let mut offset = 0u64;
        let common = seen_len.min(expected_len);
        while offset < common {
            let chunk = (common - offset).min(theirs.len() as u64) as usize;
            if let Err(error) = file.read_exact(&mut theirs[..chunk]) {
                return refused(format!("`{name}` cannot be read: {error}"));
            }
            let want = expected
                .read_at(offset, &mut ours[..chunk])
                .map_err(|error| harness_trouble(error.to_string()))?;
            if let Some(index) = (0..want.min(chunk)).find(|index| ours[*index] != theirs[*index]) {
                return Ok(differs(
                    &mut file,
                    expected,
                    name,
                    offset + index as u64,
                    seen_len,
                ));
            }
            offset += chunk as u64;
        }
        if seen_len != expected_len {
            return Ok(differs(&mut file, expected, name, common, seen_len));
        }
        Ok(Comparison::Same)
    }
}

/// Why a file named in `lacks` must not be there, for the report.
fn why_forbidden(name: &str) -> &'static str {
    if name.contains("pwned") {
        "a command sent over the network ran (a shell or eval() read it)"
    } else {
        "it was refused, and a refusal writes no file"
    }
}

/// The failure for a file (`file`, already open) that parts from `expected` at `offset`.
fn differs(
    file: &mut File,
    expected: &Payload,
    name: &str,
    offset: u64,
    seen_len: u64,
) -> Comparison {
    let start = window_start(offset);
    let mut want = vec![0u8; 64];
    let want_len = expected.read_at(start, &mut want).unwrap_or(0);
    want.truncate(want_len);
    let mut got = Vec::new();
    if std::io::Seek::seek(file, std::io::SeekFrom::Start(start)).is_ok() {
        let _ = file.take(64).read_to_end(&mut got);
    }
    let seen = if seen_len < expected.len() && offset == seen_len {
        format!(
            "`{name}` has {seen_len} bytes, all correct, and stops there ({} missing)",
            expected.len() - seen_len
        )
    } else {
        format!("`{name}` has {seen_len} bytes, differing from byte {offset} on")
    };
    Comparison::Differs(Box::new(StepFailure {
        status: crate::outcome::Status::Fail,
        expected: format!("`{name}` to hold exactly {}", expected.describe()),
        seen,
        diff: Some(byte_window_diff(
            offset,
            expected.len(),
            seen_len,
            start,
            &want,
            &got,
        )),
    }))
}
