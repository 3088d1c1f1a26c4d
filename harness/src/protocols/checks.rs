//! What a built-in check is written against: a check is written in a scenario as
//! `check = "NAME"` with `params = { ... }`, a step like any other (`crate::steps`'s
//! `check` kind), and each check's file declares its [`CheckKind`]: its name, how its
//! parameters are validated when the scenario loads (read into a typed shape, unknown ones
//! refused; errors come with the file and line), that shape for the scenario JSON Schema,
//! whether it runs in the simulated world, and its run, written against the step
//! primitives of [`CheckContext`].
//!
//! Here, beside the packs' other interfaces, since a pack declares the checks of its
//! protocol (its `checks`: the harness as the client of a submitted server, `ping-loss`);
//! the checks of no protocol, and the list of them all, are `crate::steps::checks`'s.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use crate::catalogue::TaskInfo;
use crate::judge::exit::ExitExpectation;
use crate::judge::output::OutputExpectation;
use crate::outcome::StepResult;
use crate::requests::{StartRequest, Watched};
use crate::transcript::Transcript;
use crate::world::real::process::ExitInfo;
use crate::world::sockets::PeerNet;

/// What a check's run returns, boxed: checks run behind `dyn CheckContext`.
pub(crate) type CheckFuture<'a, T = ()> = Pin<Box<dyn Future<Output = StepResult<T>> + Send + 'a>>;

/// What the engine offers a check: the step primitives it runs with. The engine
/// implements it; a check never sees the engine itself.
pub(crate) trait CheckContext: crate::waiting::Stillness + Send {
    /// Adds a line to the step log.
    fn note(&mut self, text: String);
    /// The run's settings (the sandbox a program the check starts itself runs in).
    fn settings(&self) -> &crate::settings::RunSettings;
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
    /// Once the program `name` has ended: what its sandbox measured of every process it
    /// had, beyond the program's own exit.
    fn whole_memory(&self, name: &str) -> WholeMemory;
}

/// What a program's sandbox measured of every process the program had, children that left
/// its process group and children it never waited for included (the program's own
/// `ru_maxrss` counts only the children it waited for).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WholeMemory {
    /// The most memory its processes held at once, in bytes: its memory cgroup's peak;
    /// `None` without one.
    pub(crate) cgroup_peak: Option<u64>,
    /// The largest peak resident set size of any one of its processes, in KiB, from
    /// `wait4` on its sandbox (which reaps whatever the program leaves); `None` when
    /// nothing said.
    pub(crate) largest_process_kib: Option<u64>,
}

/// One built-in check: its name in scenario files, what it accepts, where it runs, and how.
#[derive(Debug)]
pub(crate) struct CheckKind {
    pub(crate) name: &'static str,
    /// Checks the parameters (and that the task suits the check); returns the roles the
    /// check starts itself (a submission must have them for the scenario to run).
    pub(crate) validate: fn(&toml::Table, &TaskInfo) -> Result<Vec<String>, String>,
    /// Why the check cannot run in the simulated world, if it cannot.
    pub(crate) real_only: Option<&'static str>,
    /// The shape of its `params`, for the scenario JSON Schema.
    pub(crate) schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
    /// Runs the check with parameters [`CheckKind::validate`] accepted.
    pub(crate) run: for<'a> fn(&'a mut dyn CheckContext, &'a toml::Table) -> CheckFuture<'a>,
}

/// Reads a check's parameters into their shape `T`, unknown ones refused: the shape the
/// scenario schema gives the check's `params` ([`CheckKind::schema`]).
pub(crate) fn params_of<T: serde::de::DeserializeOwned>(
    check: &str,
    params: &toml::Table,
) -> Result<T, String> {
    toml::Value::Table(params.clone())
        .try_into()
        .map_err(|error: toml::de::Error| format!("`{check}`'s params: {}", error.message()))
}

/// The `server` parameter: the started program a check talks to (default `server`).
pub(crate) fn server_or_default(server: Option<String>) -> String {
    server.unwrap_or_else(|| "server".to_owned())
}

/// A datagram socket of the harness's, and the address of the started program `server`
/// it sends to: what a check of a UDP server begins with. Neither failing is the
/// program's doing: the harness's trouble.
pub(crate) async fn datagrams_to(
    run: &mut dyn CheckContext,
    server: &str,
) -> StepResult<(crate::world::sockets::PeerDatagram, std::net::SocketAddr)> {
    let (host, port) = run.endpoint_address(server)?;
    let net = run.peer_net();
    let socket = net.bind_udp().await.map_err(|error| {
        crate::outcome::harness_trouble(format!("cannot bind a UDP socket: {error}"))
    })?;
    let target = net.resolve(&host, port).await.map_err(|error| {
        crate::outcome::harness_trouble(format!("cannot resolve {host}: {error}"))
    })?;
    Ok((socket, target))
}
