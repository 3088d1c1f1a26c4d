//! What the engine offers a step, in the three capabilities steps use: the programs of
//! the scenario ([`Programs`]), the harness's own connections, servers and network
//! ([`Peers`]), and the streams they fill ([`Streams`]). [`StepContext`] is all of them,
//! with the few things every step may do (note a line in the log); a step runs against it.
//! The engine implements each capability apart (`crate::engine::contexts`), so a method
//! has one place that says which kind of thing it touches.

use std::time::Duration;

use super::{SlicePlan, StepFuture, StreamView};
use crate::outcome::StepResult;
use crate::payload::Payload;
use crate::waiting::Stillness;

/// The streams a step reads and judges: a harness connection's received bytes, a
/// program's stdout.
pub(crate) trait Streams {
    /// Up to `limit` bytes of the stream named `name` from `offset`: what a harness
    /// connection received, or a program's stdout.
    fn read_stream(&self, name: &str, offset: u64, limit: usize) -> StreamView;
    /// How far the conversation on `name` has read its stream (0 at first).
    fn cursor(&mut self, name: &str) -> &mut u64;
    /// Waits up to `within` (counted from the connection `since` made, if given) for the
    /// stream `watched` to meet `expectation`; a program's stdout that met it is judged
    /// once more when the steps are over.
    fn expect_output<'a>(
        &'a mut self,
        watched: crate::requests::Watched<'a>,
        expectation: &'a crate::judge::output::OutputExpectation,
        within: Duration,
        since: Option<&'a str>,
    ) -> StepFuture<'a>;
}

/// The scenario's programs: starting, waiting for, stopping and asking after them.
pub(crate) trait Programs {
    /// Where a program or relay named `name` listens.
    fn address(&self, name: &str) -> StepResult<(String, u16)>;
    /// Waits until the program `name` listens (TCP) or has bound its port (UDP).
    fn wait_listening<'a>(&'a mut self, name: &'a str, within: Duration) -> StepFuture<'a>;
    /// Stops the program `name` (SIGTERM to its group, then SIGKILL).
    fn stop<'a>(&'a mut self, name: &'a str) -> StepFuture<'a>;
    /// Waits up to `within` for the program `name` to end as `expected`.
    fn expect_exit<'a>(
        &'a mut self,
        name: &'a str,
        expected: crate::judge::exit::ExitExpectation,
        within: Duration,
    ) -> StepFuture<'a>;
    /// Fails if the program `name`, which has ended, crashed: died by a signal, or left an
    /// uncaught exception, a stack trace or a panic on stderr (`run_record::crash`).
    fn refuse_crash<'a>(&'a mut self, name: &'a str) -> StepFuture<'a>;
    /// The working folder of the program `name` (none in the simulated world).
    fn folder(&self, name: &str) -> Option<std::path::PathBuf>;
    /// How many times the program `name` has connected a TCP socket, where the interposed
    /// library tells (a shared loopback, where no namespace of its own counts attempts).
    fn connect_attempts(&self, name: &str) -> Option<u64>;
    /// Whether the program `name` has ended.
    fn has_exited(&self, name: &str) -> bool;
    /// How the program `name` ended, in words, with what the end of its stderr says
    /// (`exit status 2 after 0.05s; its stderr ends with: "usage: ..."`); `None` while it
    /// runs.
    fn ending(&self, name: &str) -> Option<String>;
    /// Closes the stdin the program `name` was started with held open.
    fn close_stdin(&mut self, name: &str);
    /// The peak memory of the program `name` so far, in bytes, if it can be measured.
    fn peak_memory(&self, name: &str) -> Option<u64>;
    /// The peak memories measured under a mark (`memory` steps), by mark.
    fn memory_marks(&mut self) -> &mut std::collections::BTreeMap<String, u64>;
    /// Starts a program as `request` says.
    fn start_program<'a>(
        &'a mut self,
        request: crate::requests::StartRequest<'a>,
    ) -> StepFuture<'a>;
}

/// The harness's own side: its connections and datagram sockets, its server peers and
/// relays, and the simulated network between hosts.
pub(crate) trait Peers {
    /// The network the harness's own sockets live in.
    fn net(&self) -> crate::world::sockets::PeerNet;
    /// How far the clients of the harness's server peer `server` got, if it speaks a
    /// protocol that keeps sessions (`crate::peers::ProtocolRecord::progress`).
    fn progress(&self, server: &str) -> Option<crate::peers::Progress>;
    /// Connects to `endpoint` as a client that follows `plan`, over `family`.
    fn connect<'a>(
        &'a mut self,
        endpoint: &'a str,
        plan: &'a crate::peers::client::ClientPlan,
        family: crate::world::sockets::Family,
    ) -> StepFuture<'a>;
    /// Ends the harness's connection `name` as `how` says.
    fn close_peer<'a>(
        &'a mut self,
        name: &'a str,
        how: crate::peers::client::CloseHow,
    ) -> StepFuture<'a>;
    /// Waits up to `within` until the harness's connection `name` has sent everything.
    fn wait_sent<'a>(&'a mut self, name: &'a str, within: Duration) -> StepFuture<'a>;
    /// Waits up to `within` until the program has read everything the harness's connection
    /// `name` sent (nothing unacknowledged, nothing in its receive queue); says in the step
    /// log what was left if it has not.
    fn wait_read_by_program<'a>(&'a mut self, name: &'a str, within: Duration) -> StepFuture<'a>;
    /// Starts a relay named `name` in front of `endpoint`, slicing both ways as given.
    fn start_relay<'a>(
        &'a mut self,
        name: &'a str,
        endpoint: &'a str,
        slicing: (SlicePlan, SlicePlan),
    ) -> StepFuture<'a>;
    /// Sends one datagram `payload` to `endpoint` from a harness socket named `name`.
    fn send_datagram<'a>(
        &'a mut self,
        name: &'a str,
        endpoint: &'a str,
        payload: &'a Payload,
    ) -> StepFuture<'a>;
    /// Cuts (or, with `repair`, restores) the simulated network between two hosts.
    fn partition<'a>(&'a mut self, hosts: &'a [String; 2], repair: bool) -> StepFuture<'a>;
    /// Starts the harness's server peer `name`, following `plan`.
    fn listen<'a>(
        &'a mut self,
        name: &'a str,
        plan: &'a crate::peers::ServerPlan,
    ) -> StepFuture<'a>;
    /// Sends `payload` on the harness's open connection `name`, cut as `slices` says.
    fn send_on<'a>(
        &'a mut self,
        name: &'a str,
        payload: &'a Payload,
        slices: &'a SlicePlan,
    ) -> StepFuture<'a>;
}

/// Everything the engine offers a step.
pub(crate) trait StepContext: Programs + Peers + Streams + Stillness {
    /// Adds a line to the step log.
    fn note(&mut self, text: String);
    /// The folder served as `{dir}` (a web root, a download root), if the scenario has one.
    fn site_folder(&self) -> Option<std::path::PathBuf>;
    /// Whether the scenario has a network namespace of its own (the real world, with
    /// namespaces): what the kernel counts there is the scenario's alone.
    fn own_network(&self) -> bool;
    /// The step primitives a built-in check runs with.
    fn checks(&mut self) -> &mut dyn crate::protocols::checks::CheckContext;
}
