//! The outcome model: what one scenario run produced (its verdict, failure, step log,
//! programs' output), as every reporter, the event stream and the grading read it.
//!
//! It sits below the engine that fills it in, so reports and events depend on this data
//! only, never on how scenarios are run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exit::{ExitInfo, HarnessStop};
use crate::language::Language;
use crate::transcript::{TranscriptEntry, Wire};

/// The verdict of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every step held.
    Pass,
    /// A step did not hold.
    Fail,
    /// The scenario's overall limit ran out.
    Timeout,
    /// A program could not be started at all (not found, not executable).
    Error,
    /// Not run (a role is missing, or this run cannot play it: see [`SkipKind`]); not
    /// counted as passed or failed.
    Skipped,
    /// An extra scenario (an optional part of the SPEC) that did not hold: no points, and
    /// not a failure.
    Missed,
}

impl Status {
    /// The word the report prints.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Timeout => "TIMEOUT",
            Status::Error => "ERROR",
            Status::Skipped => "SKIP",
            Status::Missed => "MISSED",
        }
    }

    /// Whether this verdict counts as a failure.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Timeout | Status::Error)
    }
}

/// Why a scenario was skipped, which decides whether its points stay in the maximum
/// (see `report::score`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// This run cannot play it, whatever the submission: a simulated-only scenario on real
    /// sockets, no browser on this machine, a check the simulated world cannot do. Nobody
    /// could have earned its points here, so they leave the maximum.
    CannotRun,
    /// The submission lacks a program it needs (a role of a task it did submit): the
    /// student's gap, so its points stay in the maximum, lost.
    NotSubmitted,
}

/// Where a failure's `seen`, after a program still running where it should have ended, goes
/// on with what its stdout had already got wrong by then, whatever it printed after (the
/// engine writes it; the first line of the report reads it).
pub const ALREADY_WRONG: &str = "; by then its stdout was already wrong: ";
/// Where what follows [`ALREADY_WRONG`] says which later step was wronged.
pub const LATER_STEP_EXPECTS: &str = " (a later step expects ";

/// What went wrong, for the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Failure {
    /// 1-based index of the failing step (0 for the scenario as a whole).
    pub step: usize,
    /// Its line in the scenario file.
    pub line: usize,
    /// What the step does.
    pub action: String,
    /// Every acceptable outcome.
    pub expected: String,
    /// What came.
    pub seen: String,
    /// A byte-level diff, for streams.
    pub diff: Option<String>,
    /// What the harness found behind it, for the headline: a program that crashed (its
    /// exit and the last words of its stderr), one the harness stopped (a flood), a secret
    /// the responses carried. See `engine/cause.rs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A line of the step log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// Since the scenario started.
    #[serde(with = "crate::encoding::micros")]
    pub at: Duration,
    /// What happened.
    pub text: String,
}

/// What a program printed and how it ended, for the report.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProgramReport {
    /// Its name in the scenario.
    pub name: String,
    /// The task's role it plays (`server` for `server-small`): what a cause shared by
    /// several scenarios is said of. Empty in records made before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// The command line run.
    pub command_line: String,
    /// The first bytes of stdout, and the total.
    #[serde(with = "head_and_total")]
    pub stdout: (Vec<u8>, u64),
    /// The first bytes of stderr, and the total.
    #[serde(with = "head_and_total")]
    pub stderr: (Vec<u8>, u64),
    /// How it ended (`None`: killed by the harness at the end).
    pub exit: Option<ExitInfo>,
    /// The last bytes of stdout past its head (up to as many as the head holds): empty
    /// when the head is all of it.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::encoding::base64_bytes"
    )]
    pub stdout_tail: Vec<u8>,
    /// The last bytes of stderr past its head: where a traceback names its exception.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "crate::encoding::base64_bytes"
    )]
    pub stderr_tail: Vec<u8>,
    /// Why the harness ended it before it ended by itself (a flood, a `stop` step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by_harness: Option<HarnessStop>,
    /// Its language, as its command line tells: hints speak its idiom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// The most memory it and every process it forked held at once, in bytes, where the
    /// sandbox measures it (its memory cgroup's peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak: Option<u64>,
    /// A known-good program of the grader's (a companion, `--companions`) the submission
    /// borrows: never the one a failure blames.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub known_good: bool,
    /// Why its command could not be started (`./client: no such file`): it never ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_started: Option<String>,
}

impl ProgramReport {
    /// The report of a program of the submission that could not be started (`why`): no
    /// output, no exit, never "ran".
    pub fn not_started(
        name: String,
        role: String,
        command_line: String,
        language: Option<Language>,
        why: String,
    ) -> ProgramReport {
        ProgramReport {
            name,
            role,
            command_line,
            stdout: (Vec::new(), 0),
            stderr: (Vec::new(), 0),
            exit: None,
            stdout_tail: Vec::new(),
            stderr_tail: Vec::new(),
            stopped_by_harness: None,
            language,
            memory_peak: None,
            known_good: false,
            not_started: Some(why),
        }
    }

    /// The role it plays, or its name where the record does not say.
    pub fn role_or_name(&self) -> &str {
        if self.role.is_empty() {
            &self.name
        } else {
            &self.role
        }
    }

    /// How it ended, in words: `exit status 1 after 0.51s`, `stopped by the harness:
    /// printed more than 64 MiB on stdout (killed by signal 9 (SIGKILL) after 0.32s)`.
    pub fn ending(&self) -> String {
        let after =
            |exit: &ExitInfo| format!("{}s", crate::encoding::decimal_seconds(exit.after, 2));
        if let Some(why) = &self.not_started {
            return format!("could not be started: {why}");
        }
        match (&self.exit, &self.stopped_by_harness) {
            (Some(exit), Some(stop)) => format!("{stop} ({} after {})", exit.kind, after(exit)),
            (Some(exit), None) => format!("{} after {}", exit.kind, after(exit)),
            // A child it forked went over the memory cap; the program itself ran on.
            (None, Some(stop @ HarnessStop::MemoryLimit { .. })) => {
                format!("still running at the end: killed by the harness; {stop}")
            }
            (None, _) => "still running at the end: killed by the harness".into(),
        }
    }
}

/// Everything about one scenario run.
///
/// Serialized in a `verdict` event without its step log, transcript and wire, which go in
/// events of their own before it (see [`crate::events`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Scenario id.
    pub id: String,
    /// Its task.
    pub task: String,
    /// SPEC clauses.
    pub clauses: Vec<String>,
    /// Category.
    pub category: Category,
    /// Points.
    pub points: u32,
    /// Graded as extra: its points add to the total, and missing it is no failure.
    pub extra: bool,
    /// The requirement.
    pub requirement: String,
    /// The scenario's hint for `--explain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The verdict.
    pub status: Status,
    /// Wall time.
    #[serde(with = "crate::encoding::micros")]
    pub duration: Duration,
    /// Why it failed.
    pub failure: Option<Failure>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Whether the skip is this run's (out of the maximum) or the submission's (in it).
    /// Absent from recordings made before the distinction, which counted every skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_kind: Option<SkipKind>,
    /// When Gradescope shows the result (the scenario's `visibility`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<crate::outcome::Visibility>,
    /// The step log.
    #[serde(default)]
    pub log: Vec<LogLine>,
    /// What moved on every connection, and how many entries were left out.
    #[serde(default)]
    pub transcript: (Vec<TranscriptEntry>, u64),
    /// Every byte the harness's sockets moved, for the packet capture.
    #[serde(default)]
    pub wire: Wire,
    /// The programs' output.
    pub programs: Vec<ProgramReport>,
    /// The seed that replays it.
    pub seed: u64,
}

/// A program's output excerpt as `{ "head": base64, "total": bytes }`.
mod head_and_total {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct HeadAndTotal {
        #[serde(with = "crate::encoding::base64_bytes")]
        head: Vec<u8>,
        total: u64,
    }

    pub(super) fn serialize<S: Serializer>(
        value: &(Vec<u8>, u64),
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        HeadAndTotal {
            head: value.0.clone(),
            total: value.1,
        }
        .serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<(Vec<u8>, u64), D::Error> {
        let HeadAndTotal { head, total } = HeadAndTotal::deserialize(deserializer)?;
        Ok((head, total))
    }
}

impl Failure {
    /// Its texts with every control character escaped ([`crate::escape`]): what a step saw
    /// quotes a submission's bytes and names. The diff keeps its lines.
    pub fn make_printable(&mut self) {
        use crate::escape::{escape, escape_lines};
        for text in [&mut self.action, &mut self.expected, &mut self.seen] {
            escape(text);
        }
        if let Some(cause) = &mut self.cause {
            escape(cause);
        }
        if let Some(diff) = &mut self.diff {
            escape_lines(diff);
        }
    }
}

impl Outcome {
    /// An outcome with only an id, to be filled in.
    pub fn blank(id: &str) -> Outcome {
        Outcome {
            id: id.to_owned(),
            task: String::new(),
            clauses: Vec::new(),
            category: Category::Basic,
            points: 0,
            extra: false,
            requirement: String::new(),
            hint: None,
            status: Status::Skipped,
            duration: Duration::ZERO,
            failure: None,
            skip_reason: None,
            skip_kind: None,
            visibility: None,
            log: Vec::new(),
            transcript: (Vec::new(), 0),
            wire: Wire::default(),
            programs: Vec::new(),
            seed: 0,
        }
    }

    /// Every text of it with its control characters escaped ([`crate::escape`]), as every
    /// report shows it: a command line, a file or host name, a step log line or a failure
    /// may carry a submission's bytes (an escape sequence, a newline that forges a line).
    /// The bytes of outputs and transcripts stay as they are: each report escapes them as
    /// it draws them. The scenario's own texts (requirement, hint) keep their lines.
    pub fn make_printable(&mut self) {
        use crate::escape::{escape, escape_lines};
        escape(&mut self.id);
        escape(&mut self.task);
        self.clauses.iter_mut().for_each(escape);
        escape_lines(&mut self.requirement);
        if let Some(hint) = &mut self.hint {
            escape_lines(hint);
        }
        if let Some(failure) = &mut self.failure {
            failure.make_printable();
        }
        if let Some(reason) = &mut self.skip_reason {
            escape(reason);
        }
        for line in &mut self.log {
            escape(&mut line.text);
        }
        for entry in &mut self.transcript.0 {
            escape(&mut entry.connection);
            if let Some(event) = &mut entry.event {
                escape(event);
            }
        }
        for program in &mut self.programs {
            escape(&mut program.name);
            escape(&mut program.command_line);
        }
    }
}

/// Report categories (h2spec-like sections).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The task's ordinary behaviour: the dialogue and the output the handout asks for.
    Basic,
    /// Input and conditions a careful program survives: bytes sliced or pipelined, bad input, a
    /// port in use, a peer that goes away.
    Robustness,
    /// Several clients at once: whether they are served side by side, or wait as the model says.
    Concurrency,
    /// Size and speed: large transfers, peak memory, caching.
    Performance,
    /// The SPEC's *(security)* clauses: no file served outside the root, no code run from input, no
    /// password in clear.
    Security,
}

impl Category {
    /// Every category, in the order reports list them.
    pub const ALL: [Category; 5] = [
        Category::Basic,
        Category::Robustness,
        Category::Concurrency,
        Category::Performance,
        Category::Security,
    ];

    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Category::Basic => "basic",
            Category::Robustness => "robustness",
            Category::Concurrency => "concurrency",
            Category::Performance => "performance",
            Category::Security => "security",
        }
    }
}

/// When a grading platform shows a test's result to the student: Gradescope's four words
/// (its autograder specification, `visibility` of a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Never shown to the student.
    Hidden,
    /// Shown once the due date has passed.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
    /// Shown at once.
    Visible,
}

impl Visibility {
    /// Every visibility, in the order Gradescope's specification lists them.
    pub const ALL: [Visibility; 4] = [
        Visibility::Hidden,
        Visibility::AfterDueDate,
        Visibility::AfterPublished,
        Visibility::Visible,
    ];

    /// The word Gradescope reads (`after_due_date`).
    pub fn name(self) -> &'static str {
        match self {
            Visibility::Hidden => "hidden",
            Visibility::AfterDueDate => "after_due_date",
            Visibility::AfterPublished => "after_published",
            Visibility::Visible => "visible",
        }
    }

    /// The visibility a word names, or why it names none.
    pub fn from_name(word: &str) -> Result<Visibility, String> {
        Visibility::ALL
            .into_iter()
            .find(|visibility| visibility.name() == word)
            .ok_or_else(|| {
                let words: Vec<&str> = Visibility::ALL.iter().map(|v| v.name()).collect();
                format!("`{word}` is not a visibility ({})", words.join(", "))
            })
    }
}
