//! The scenario model: what a scenario file says, once checked.
//!
//! ```toml
//! task = "message"
//! clauses = ["message/4", "message/1"]
//! category = "robustness"
//! points = 2
//! requirement = "The server prints exactly the bytes it received, even one at a time."
//!
//! [[step]]
//! start = "server"
//!
//! [[step]]
//! wait_listening = "server"
//!
//! [[step]]
//! connect = "server"
//! as = "c1"
//! send = { file = "fixtures/payloads/text-20k.txt" }
//! slices = { size = 1, gap_ms = 1 }
//!
//! [[step]]
//! expect_stdout = "server"
//! equals_sent = ["c1"]
//! ```
//!
//! The vocabulary of steps (one action key per step; the other keys modify it) is the
//! registry of `crate::steps`, one file per action; `harness/docs/reference/scenario-schema.md`
//! is generated from it (every step, every key, with its description), so no list here
//! can fall behind it.
//!
//! stdout is data (SPEC conventions), so an expectation on it judges the *whole* output:
//! `matches` must match all of it (the regex is anchored at both ends: it accounts for
//! every line), `after_label` is the given bytes with at most a label before them on their
//! line (SPEC upper/6) and nothing after but line ends; `contains`, `excludes`, `http` and
//! `not_empty`, which say nothing of the rest, are refused there. The last expectation on
//! each program's stdout is judged once more when the steps are over, once the program has
//! ended or its output has been quiet for a while, so that a line printed later (after an
//! exact match settled) fails too.
//!
//! A scenario with `extra = true` grades an optional part of the SPEC (the proxy's
//! cache): passing earns its points on top of the total; failing is reported as `MISSED`,
//! which is not a failure.
//!
//! `zones = ["mail-lab"]` makes the scenario's own DNS, the resolver its programs find in
//! `/etc/resolv.conf`, authoritative for those master files of `fixtures/zones/` (see
//! `crate::peers::dns::zone`). Only a run that gives each scenario a network namespace
//! has that DNS; elsewhere such a scenario is reported as skipped, with that reason.
//!
//! `dir = { tree = "lab-notes" }` makes `{dir}` a fresh copy of the folder described in
//! `fixtures/trees/lab-notes.toml` (see `crate::tree`) instead of the test web site;
//! with `missing = true`, `{dir}` names that folder but it is not made.
//!
//! A scenario with `world = "simulated"` runs only in the simulated world (it uses
//! `partition`); graded on real sockets it is reported as skipped, with that reason, and
//! its points leave the maximum (no program could have earned them here).
//!
//! `visibility = "after_due_date"` (or `hidden`, `after_published`, `visible`) says when
//! Gradescope shows the scenario's result to the student; `--gradescope-visibility` on the
//! command line overrides it.

use std::time::Duration;

use crate::outcome::{Category, Visibility};

/// How long a `check` step counts for in [`Scenario::patience`]: a ping-loss run, a
/// peak-memory stream, a browser loading a page take seconds.
pub(super) const CHECK_PATIENCE: Duration = Duration::from_secs(20);

/// A checked scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `<task>/<file stem>`.
    pub id: String,
    /// The task this scenario checks.
    pub task: String,
    /// The SPEC clause ids it checks, the first being the main one.
    pub clauses: Vec<String>,
    /// Where the report files it.
    pub category: Category,
    /// What it is worth.
    pub points: u32,
    /// The requirement, quoted for the report.
    pub requirement: String,
    /// What usually causes a failure here, for `--explain` (optional).
    pub hint: Option<String>,
    /// A limit on the whole scenario.
    pub timeout: Duration,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Where it was read from, for messages.
    pub path: std::path::PathBuf,
    /// Only the simulated world can run it (network partitions).
    pub simulated_only: bool,
    /// Only the real world runs it (`world = "real"`): hundreds of connections or
    /// megabytes, which the simulated network would play far too slowly at one byte per
    /// read.
    pub real_only: bool,
    /// Graded as extra (SPEC's optional parts, as the proxy's cache): passing earns its
    /// points on top of the total, failing is reported but is not a failure.
    pub extra: bool,
    /// The kit's root, where `fixtures/` is (for the web site of `{dir}`).
    pub kit_root: std::path::PathBuf,
    /// When Gradescope shows its result to the student (`visibility = "after_due_date"`);
    /// `None` leaves it to the command line, else visible.
    pub visibility: Option<Visibility>,
    /// The task's well-known ports (`scenarios/tasks.toml`), served for its clients.
    pub well_known_ports: Vec<u16>,
    /// What its own DNS answers when the scenario names master files of `fixtures/zones/`
    /// (`zones`, read at load): its programs' system resolver answers from them, which
    /// only a run with a network namespace per scenario has. `None`: the standard zone.
    pub zone: Option<std::sync::Arc<crate::peers::dns::Zone>>,
    /// Its programs may use UDP: the task's do (`datagrams` in `scenarios/tasks.toml`), or
    /// it has a zone, which their system resolver asks over UDP.
    pub datagrams: bool,
    /// What `{dir}` is: a tree of `fixtures/trees/`, or (none) the web site.
    pub dir_tree: Option<DirTree>,
    /// The longest wait its steps name (their largest `within_ms`; a `check`, which plays
    /// a whole exchange of its own, counts as [`CHECK_PATIENCE`]). Only the order in which
    /// scenarios start when several run at once reads it: the patient ones first, so that
    /// a run does not end with one long scenario alone (`crate::grading`).
    pub patience: Duration,
}

/// `dir = { tree = "lab-notes", missing = false }`.
#[derive(Debug, Clone)]
pub struct DirTree {
    /// The folder described (read at load), named after the description's stem.
    pub tree: crate::tree::Tree,
    /// The folder is not made: `{dir}` names one that does not exist.
    pub missing: bool,
}

impl Scenario {
    /// Whether it cuts some program's own socket calls short (the short-call library in
    /// the real world, the short-I/O adapter in the simulated one).
    pub fn cuts_calls_short(&self) -> bool {
        self.steps.iter().any(|step| {
            step.action
                .0
                .starts()
                .is_some_and(|start| start.short_calls.is_some())
        })
    }

    /// Roles this scenario starts: a submission must have all of them for it to run.
    pub fn roles(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = self
            .steps
            .iter()
            .flat_map(|step| step.action.0.roles().iter().map(String::as_str))
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
}

/// One step: its action, and the line it was written on.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line in the scenario file.
    pub line: usize,
    /// What to do: a step of one of the kinds of `crate::steps`, checked.
    pub action: crate::steps::Registered,
}
