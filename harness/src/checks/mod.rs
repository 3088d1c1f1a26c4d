//! Built-in checks: what a flat list of steps cannot say.
//!
//! A check is written in a scenario as `check = "NAME"` with `params = { ... }`. It is
//! validated when the scenario loads (unknown names and parameters are errors with the
//! file and line) and run with the same step primitives as ordinary steps.

pub mod after_label;
pub mod browser;
pub mod clear_text;
pub mod http;
pub mod mail;
mod peak_memory;
mod ping_loss;
pub mod ping_report;
mod smtp_deliver;
mod smtp_dialogue;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use crate::engine::requests::{StartRequest, Watched};
use crate::outcome::{StepFailure, StepResult};
use crate::peers::transcript::Transcript;
use crate::scenario::{ExitExpectation, OutputExpectation, TaskInfo};
use crate::world::real::process::ExitInfo;
use crate::world::sockets::PeerNet;

/// What a check's run returns, boxed: checks run behind `dyn CheckContext`.
pub(crate) type CheckFuture<'a, T = ()> = Pin<Box<dyn Future<Output = StepResult<T>> + Send + 'a>>;

/// What the engine offers a check: the step primitives it runs with. The engine
/// implements it; a check never sees the engine itself.
pub(crate) trait CheckContext: Send {
    /// Adds a line to the step log.
    fn note(&mut self, text: String);
    /// The kit's folder (`fixtures/`, the reference's workspace).
    fn kit_root(&self) -> &Path;
    /// The network the harness's own sockets live in.
    fn peer_net(&self) -> PeerNet;
    /// The scenario's transcript, which the check's own connections write to.
    fn transcript(&self) -> Transcript;
    /// Time since the scenario started.
    fn elapsed(&self) -> Duration;
    /// Where a program or peer named `name` listens.
    fn endpoint_address(&self, name: &str) -> StepResult<(String, u16)>;
    /// Starts a program, as a `start` step does.
    fn start_program<'a>(&'a mut self, request: StartRequest<'a>) -> CheckFuture<'a>;
    /// Waits until the program `name` listens.
    fn wait_listening<'a>(&'a mut self, name: &'a str, within: Duration) -> CheckFuture<'a>;
    /// Waits up to `within` for the program `name` to end as `expected`.
    fn expect_exit<'a>(
        &'a mut self,
        name: &'a str,
        expected: ExitExpectation,
        within: Duration,
    ) -> CheckFuture<'a, ExitInfo>;
    /// Checks a stream of bytes, waiting up to `within` for them to arrive.
    fn expect_bytes<'a>(
        &'a mut self,
        watched: Watched<'a>,
        expectation: &'a OutputExpectation,
        within: Duration,
    ) -> CheckFuture<'a>;
    /// Stops the program `name`.
    fn stop<'a>(&'a mut self, name: &'a str) -> CheckFuture<'a, ExitInfo>;
}

/// Every built-in check.
pub const CHECKS: &[&str] = &[
    peak_memory::NAME,
    ping_loss::NAME,
    browser::NAME,
    smtp_dialogue::NAME,
    smtp_deliver::NAME,
];

/// Checks a check's name and parameters; returns the roles it starts.
pub fn validate(name: &str, params: &toml::Table, task: &TaskInfo) -> Result<Vec<String>, String> {
    match name {
        peak_memory::NAME => {
            peak_memory::Params::check_roles(task)?;
            peak_memory::Params::parse(params)?;
            Ok(peak_memory::ROLES.map(String::from).to_vec())
        }
        browser::NAME => {
            // It browses a server the scenario started.
            browser::Params::parse(params)?;
            Ok(Vec::new())
        }
        ping_loss::NAME => {
            // It pings a program the scenario started: it starts none itself.
            ping_loss::Params::parse(params)?;
            Ok(Vec::new())
        }
        smtp_dialogue::NAME => {
            // It talks to a server the scenario started.
            smtp_dialogue::Params::parse(params)?;
            Ok(Vec::new())
        }
        smtp_deliver::NAME => {
            smtp_deliver::Params::parse(params)?;
            Ok(Vec::new())
        }
        other => Err(format!(
            "unknown check `{other}` (checks: {})",
            CHECKS.join(", ")
        )),
    }
}

/// Runs a validated check.
pub(crate) async fn run(
    run: &mut dyn CheckContext,
    name: &str,
    params: &toml::Table,
) -> Result<(), StepFailure> {
    match name {
        peak_memory::NAME => peak_memory::run(run, params).await,
        ping_loss::NAME => ping_loss::run(run, params).await,
        browser::NAME => browser::run(run, params).await,
        smtp_dialogue::NAME => smtp_dialogue::run(run, params).await,
        smtp_deliver::NAME => smtp_deliver::run(run, params).await,
        other => unreachable!("check `{other}` passed validation"),
    }
}

/// Rejects the parameters a check does not know, naming those it does.
fn only_known(check: &str, params: &toml::Table, known: &[&str]) -> Result<(), String> {
    match params.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(format!(
            "unknown parameter `{unknown}` of `{check}` (parameters: {})",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// The `server` parameter: the started program a check talks to (default `server`).
fn server_param(params: &toml::Table) -> Result<String, String> {
    match params.get("server") {
        None => Ok("server".to_owned()),
        Some(value) => value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "`server` must be the name of a started program".into()),
    }
}
