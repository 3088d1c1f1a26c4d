//! A fixture's `expected.toml`: the scenarios it must fail (with full privileges), and
//! where a verdict depends on what the machine allows, what it must do there instead.
//!
//! ```toml
//! only = ["message/01-text-20k"]   # the scenarios graded (all of its tasks' without)
//! fails = []                       # failed with every sandbox layer on
//! misses = []                      # extra scenarios it does not earn
//!
//! # Where the memory cap is not here (a container's cgroup tree is read-only), nothing
//! # stops it: it passes.
//! [environments.container]
//! fails = []
//! because = "memory-cap"
//! ```
//!
//! The environments are those the suite grades in: `container` (a real Docker container:
//! `container.rs`), `emulated-container` (its stand-in where no container can run) and
//! `ordinary-user` (the harness run by `nobody`). `because` is the sandbox layer whose
//! absence changes the verdict, as the JSON report's `sandbox.not_here` names it: the tests
//! assert that the run said that layer was not there. `says` (optional): words the console
//! report must hold there, such as what stopped the program.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The environments a fixture may declare a verdict for.
pub(crate) const ENVIRONMENTS: [&str; 3] = ["container", "emulated-container", "ordinary-user"];

/// The layer ids of the JSON report's `sandbox.not_here`.
const LAYERS: [&str; 11] = [
    "sandbox-init",
    "own-user",
    "seccomp",
    "pid-namespace",
    "view",
    "pids-cgroup",
    "memory-cap",
    "cpu-share",
    "disk-cap",
    "tcp-walls",
    "udp-walls",
];

/// One fixture's `expected.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expected {
    /// The scenarios it fails with every layer on.
    pub(crate) fails: Vec<String>,
    /// Extra scenarios (optional parts of the SPEC) it does not earn: not failures, but
    /// declared all the same, so that an extra scenario is proven to pass and to miss.
    #[serde(default)]
    pub(crate) misses: Vec<String>,
    /// The scenarios graded (globs); all of its tasks' when empty.
    #[serde(default)]
    pub(crate) only: Vec<String>,
    /// Where a missing layer changes a verdict: the environment's verdict and why.
    #[serde(default)]
    pub(crate) environments: BTreeMap<String, Elsewhere>,
}

/// What a fixture fails in one environment, and the missing layer that makes it so.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Elsewhere {
    pub(crate) fails: Vec<String>,
    pub(crate) because: String,
    /// Words the console report must hold there: what stopped it, said.
    #[serde(default)]
    pub(crate) says: Option<String>,
}

impl Expected {
    /// The `expected.toml` of the fixture folder `dir`, its environments checked.
    pub(crate) fn of(dir: &Path) -> Expected {
        let path = dir.join("expected.toml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let expected: Expected = toml::from_str(&text)
            .unwrap_or_else(|error| panic!("{} is not valid: {error}", path.display()));
        for (name, elsewhere) in &expected.environments {
            assert!(
                ENVIRONMENTS.contains(&name.as_str()),
                "{}: unknown environment `{name}` (known: {ENVIRONMENTS:?})",
                path.display()
            );
            assert!(
                LAYERS.contains(&elsewhere.because.as_str()),
                "{}: `because` names no sandbox layer: {} (known: {LAYERS:?})",
                path.display(),
                elsewhere.because
            );
        }
        expected
    }

    /// Words the console report must hold in `environment`, if it declares any.
    pub(crate) fn says_in(&self, environment: &str) -> Option<&str> {
        self.environments.get(environment)?.says.as_deref()
    }

    /// What it must fail in `environment`, and the layer the run must have said was not
    /// there (`None`: the same as with every layer on).
    pub(crate) fn in_environment(&self, environment: &str) -> (&[String], Option<&str>) {
        match self.environments.get(environment) {
            Some(elsewhere) => (&elsewhere.fails, Some(&elsewhere.because)),
            None => (&self.fails, None),
        }
    }
}
