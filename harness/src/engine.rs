//! Runs one scenario against one target's programs and produces its [`Outcome`].
//!
//! Steps run in order; each waiting step has a deadline, and the whole scenario has one
//! too. The first step that fails ends the scenario. Whatever happens, every program is
//! killed and every connection closed when the run is dropped.

use crate::faults::SlicePlan;
use crate::judge::diff::excerpt;
use crate::peers::client::CloseHow;
use crate::world::sockets::Family;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

// tokio's clock, not std's: in the simulated world it is the simulation's clock, so
// deadlines and timings are simulated too (and replay identically).
use tokio::time::Instant;

use crate::judge::bytes::Evaluation;
use crate::judge::exit::ExitExpectation;
use crate::judge::output::OutputExpectation;
use crate::language::Language;
use crate::outcome::Category;
use crate::outcome::{Failure, LogLine, Outcome, ProgramReport, SkipKind, Status, StepResult};
use crate::outcome::{StepFailure, harness_trouble};
use crate::payload::{Concatenation, Payload};
use crate::peers::stand_in::StandIn;
use crate::peers::{ClientPeer, ClientPlan, DatagramPeer, Relay, ServerPeer};
use crate::requests::{Endpoint, PortChoice};
use crate::scenario::Scenario;
use crate::settings::RunSettings;
use crate::target::{RoleProgram, Workdir};
use crate::transcript::Transcript;
use crate::waiting::Deadline;
use crate::world::capture::Capture;
use crate::world::capture::OutputStream;
use crate::world::real::isolation::Namespace;
use crate::world::real::process::{ExitInfo, ExitKind, HarnessStop, ProcessSpec};
use crate::world::real::{blocked, ports};
use crate::world::{ProgramHandle, World};

mod cause;
mod caveat;
mod contexts;
mod finish;
mod internet;
mod listening;
mod programs;
mod start_program;
pub(crate) use programs::{all_redirectable, fixed_ports_stay};
mod stillness;
mod well_known;
use caveat::Caveat;

pub(crate) use crate::requests::{StartRequest, Watched};

/// How often waiting steps look again.
const POLL: Duration = Duration::from_millis(10);
/// How long output must stay unchanged before an exact match is accepted, so that a debug
/// line printed right after the message is still caught.
const SETTLE: Duration = Duration::from_millis(150);
/// How long a running program's stdout must stay unchanged before it is judged again at
/// the end of a scenario: a line printed up to this long after the last step (a status
/// line a moment after the real output) is seen.
const QUIET: Duration = Duration::from_millis(500);
/// The longest the end of a scenario waits for a program's stdout to go quiet.
const QUIET_LIMIT: Duration = Duration::from_secs(5);
/// Grace between SIGTERM and SIGKILL when stopping a program.
const STOP_GRACE: Duration = Duration::from_millis(1000);
/// Output shown in reports, per stream.
const SHOWN_OUTPUT: usize = 2048;
/// The longest the end of a scenario waits for the output of programs that ended.
const OUTPUT_DRAIN: Duration = Duration::from_millis(500);
/// How long a port a program hard-codes is waited for while in TIME_WAIT (Linux keeps a
/// closed connection there for 60 s), on a shared loopback only.
const FIXED_PORT_WAIT: Duration = Duration::from_secs(65);

/// A started program of the scenario.
struct Program {
    /// Where it listens: the address and port other programs and peers connect to (none for
    /// a client).
    host: Option<String>,
    port: Option<u16>,
    handle: ProgramHandle,
    /// A companion's program (`RoleProgram::known_good`).
    known_good: bool,
    /// The task's role it plays.
    role: String,
}

/// A program of the submission whose command could not be started.
struct NeverStarted {
    name: String,
    /// The task's role it plays.
    role: String,
    /// Its command line, as given to the harness.
    command_line: String,
    /// Why it could not be started (`./client: no such file`).
    why: String,
}

/// The state of one scenario run. Dropping it kills every program and closes every
/// connection.
pub(crate) struct Run<'a> {
    scenario: &'a Scenario,
    world: &'a World,
    /// The run's settings: the sandbox, the network mode, the packs' choices.
    settings: &'a RunSettings,
    roles: &'a BTreeMap<String, RoleProgram>,
    seed: u64,
    started: Instant,
    log: Vec<LogLine>,
    transcript: Transcript,
    programs: BTreeMap<String, Program>,
    order: Vec<String>,
    /// Programs of the submission whose command could not be started (it does not exist):
    /// reported with no output, so the report names them by their role.
    never_started: Vec<NeverStarted>,
    peers: BTreeMap<String, ClientPeer>,
    datagram_peers: BTreeMap<String, DatagramPeer>,
    servers: BTreeMap<String, ServerPeer>,
    relays: BTreeMap<String, Relay>,
    held_ports: Vec<std::net::TcpListener>,
    /// On a shared loopback, the TCP ports its programs are walled to: the scenario's
    /// block and the ports the submission hard-codes that nothing else held when it began
    /// ([`Run::wait_for_fixed_ports`]).
    tcp_ports: Option<sandbox::TcpPorts>,
    stand_ins: Vec<StandIn>,
    /// The DNS of the scenario's namespaces and what it was asked (see [`internet`]).
    internet: internet::Internet,
    site: Option<crate::site::Site>,
    /// What the verdict of a failure must add: the scenario ran with a handicap the
    /// submission asked for (an option dropped) or the machine imposed (a port in TIME_WAIT).
    caveats: Vec<Caveat>,
    /// The last expectation on each program's stdout that held, with its step's number:
    /// judged again when the steps are over (see [`Run::judge_stdout_again`]).
    last_stdout: BTreeMap<String, (usize, OutputExpectation)>,
    /// Programs a step stopped while they ran: their end is the harness's doing.
    stopped_by_step: BTreeSet<String>,
    /// Programs whose exit an `expect_exit` step accepted: a failure does not blame it.
    exits_accepted: BTreeSet<String>,
    /// Programs an `expect_exit` with `crash = false` found crashed, with the crash: the
    /// failure's cause names it in its language's words.
    crashes: BTreeMap<String, run_record::crash::Crash>,
    /// The number of the step running (from 1).
    step_number: usize,
    /// How far each conversation has read its stream (`expect_line`).
    cursors: BTreeMap<String, u64>,
    /// How many times each connection has sent again (`say`): each send is cut differently.
    sends_later: BTreeMap<String, u32>,
    /// What the looks for programs blocked for good have seen (see [`stillness`]).
    stillness: std::sync::Mutex<stillness::Stillness>,
    /// Peak memories measured by `memory` steps, by mark (`memory = "server", mark = ...`).
    memory_marks: BTreeMap<String, u64>,
    /// Woken when something of one of its real programs ends (see `world::real::endings`).
    endings: crate::world::real::endings::Endings,
}

/// Runs `scenario` with the programs of one task, in `world`, as `settings` say.
pub async fn run_scenario(
    scenario: &Scenario,
    roles: &BTreeMap<String, RoleProgram>,
    seed: u64,
    world: &World,
    settings: &RunSettings,
) -> Outcome {
    let started = Instant::now();
    let mut run = Run {
        scenario,
        world,
        settings,
        roles,
        seed,
        started,
        log: Vec::new(),
        transcript: Transcript::new(started),
        programs: BTreeMap::new(),
        order: Vec::new(),
        never_started: Vec::new(),
        peers: BTreeMap::new(),
        datagram_peers: BTreeMap::new(),
        servers: BTreeMap::new(),
        relays: BTreeMap::new(),
        held_ports: Vec::new(),
        tcp_ports: None,
        stand_ins: Vec::new(),
        internet: internet::Internet::new(scenario),
        site: None,
        caveats: Vec::new(),
        last_stdout: BTreeMap::new(),
        stopped_by_step: BTreeSet::new(),
        exits_accepted: BTreeSet::new(),
        crashes: BTreeMap::new(),
        step_number: 0,
        cursors: BTreeMap::new(),
        sends_later: BTreeMap::new(),
        stillness: std::sync::Mutex::default(),
        endings: Default::default(),
        memory_marks: BTreeMap::new(),
    };
    // Before the scenario's clock starts: on a shared loopback, a port the submission
    // hard-codes may still be in TIME_WAIT from the scenario before (up to 60 s).
    run.wait_for_fixed_ports().await;
    // The harness's DNS, before any program can look a name up.
    run.start_internet();
    // Before it too: the short-call library is built the first time a scenario needs it
    // (a failure is reported by the step that starts the program).
    if matches!(world, World::Real(_)) && scenario.cuts_calls_short() {
        let _ = crate::faults::short_calls::library(&scenario.kit_root, &settings.sandbox.layers);
    }
    let mut current_step = 0;
    let result = tokio::time::timeout(scenario.timeout, run.execute(&mut current_step)).await;
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(_) => Some(StepFailure {
            status: Status::Timeout,
            expected: format!(
                "the whole scenario to finish within {} ms",
                scenario.timeout.as_millis()
            ),
            seen: "it was still running: stopped by the harness".into(),
            diff: None,
        }),
    };
    run.finish(failure, current_step).await
}

/// How long, in simulated time, a program is given to read what it was sent before a reset
/// (`close` with `after_read`) in the simulated world.
const SIMULATED_READ_TIME: Duration = Duration::from_secs(1);

impl<'a> Run<'a> {
    async fn execute(&mut self, current_step: &mut usize) -> StepResult {
        for (index, step) in self.scenario.steps.iter().enumerate() {
            *current_step = index + 1;
            self.step_number = index + 1;
            let line = step.action.describe(self.settings);
            self.note(format!("step {}: {}", index + 1, line));
            let result = step.action.0.run(self).await;
            // The names looked up during the step, in the log before its verdict.
            self.note_the_internet(false);
            if let Err(failure) = result {
                return Err(self
                    .judge_after_a_failure(index, failure, current_step)
                    .await);
            }
            self.check_floods()?;
        }
        self.judge_stdout_again(current_step).await
    }

    /// Step `failed + 1` failed: the later steps marked to be judged even so (a security
    /// check) run now, and the first of them that fails is the failure reported, the
    /// earlier one said after it. A skip (a step this machine cannot run) is no failure
    /// to go on from.
    async fn judge_after_a_failure(
        &mut self,
        failed: usize,
        failure: StepFailure,
        current_step: &mut usize,
    ) -> StepFailure {
        if failure.status != Status::Fail {
            return failure;
        }
        let later = self.scenario.steps.iter().enumerate().skip(failed + 1);
        for (index, step) in later.filter(|(_, step)| step.action.0.judged_after_a_failure()) {
            self.step_number = index + 1;
            self.note(format!(
                "step {} (judged although step {} failed): {}",
                index + 1,
                failed + 1,
                step.action.describe(self.settings)
            ));
            if let Err(mut first_word) = step.action.0.run(self).await {
                // Only a finding comes first: a step that could not be judged (its program
                // never started, as the earlier failure left it) leaves the failure that
                // says why.
                if first_word.status != Status::Fail {
                    self.note(format!(
                        "step {} not judged: {}",
                        index + 1,
                        first_word.seen
                    ));
                    continue;
                }
                *current_step = index + 1;
                first_word.seen = format!(
                    "{}; and before it, step {} failed: {}",
                    first_word.seen,
                    failed + 1,
                    failure.seen
                );
                return first_word;
            }
        }
        failure
    }

    /// Judges the last expectation on each program's stdout once more, now that the steps
    /// are over: stdout is data, and a line printed after the step held (once an exact match
    /// had settled, or later still) is as wrong as one printed before. The output is taken
    /// once the program has ended, or once it has stayed unchanged for [`QUIET`] (a server
    /// runs until the harness stops it); a failure is the failure of that step.
    async fn judge_stdout_again(&mut self, current_step: &mut usize) -> StepResult {
        let last = std::mem::take(&mut self.last_stdout);
        for (name, (step, expectation)) in &last {
            let watched = Watched::Output {
                name,
                stream: OutputStream::Stdout,
            };
            let quiet_for = self.wait_for_quiet(name).await;
            let (capture, ended) = self.watched_bytes(watched);
            let when = match (&ended, quiet_for) {
                (Some(ended), _) => format!("at the end of the scenario ({ended})"),
                (None, Some(quiet)) => format!(
                    "at the end of the scenario, after {} ms without new output",
                    quiet.as_millis()
                ),
                (None, None) => format!(
                    "at the end of the scenario (the output was still growing after {} ms)",
                    QUIET_LIMIT.as_millis()
                ),
            };
            let where_ = format!("{name}'s stdout");
            let mut verified = 0;
            let verdict = crate::judge::output::evaluate(
                self,
                &where_,
                capture,
                expectation,
                true,
                &mut verified,
            );
            let failure = match verdict {
                Ok(Evaluation::Pending { expected, seen }) => {
                    Some(StepFailure::fail(expected, seen))
                }
                Ok(_) => None,
                Err(failure) => Some(failure),
            };
            if let Some(mut failure) = failure {
                *current_step = *step;
                failure.seen = format!("{} ({when}; this step had held)", failure.seen);
                return Err(failure);
            }
            self.note(format!("{name}'s stdout judged again {when}: still holds"));
        }
        Ok(())
    }

    /// Waits until `name` has ended with its stdout read to the end, or until its stdout
    /// has stayed unchanged for [`QUIET`], at most [`QUIET_LIMIT`]. Returns how long it was
    /// quiet; `None` if it ended, or never went quiet.
    async fn wait_for_quiet(&self, name: &str) -> Option<Duration> {
        let handle = &self.programs[name].handle;
        let started = Instant::now();
        let mut length = handle.stdout().len();
        let mut since = Instant::now();
        loop {
            if handle.exit_info().is_some() && handle.stdout().closed() {
                return None;
            }
            if since.elapsed() >= QUIET {
                return Some(since.elapsed());
            }
            // Nothing can print any more: quiet for good.
            if self.blocked_for_good().is_some() {
                return Some(since.elapsed());
            }
            if started.elapsed() >= QUIET_LIMIT {
                return None;
            }
            tokio::time::sleep(POLL).await;
            let now = handle.stdout().len();
            if now != length {
                length = now;
                since = Instant::now();
            }
        }
    }

    /// Pauses a waiting loop between two looks: [`POLL`] at most, less in the real world
    /// when a program's output or life ends meanwhile (see `world::real::endings`).
    async fn pause(&self) {
        crate::steps::pause(self.endings_to_wait_on()).await;
    }

    /// The end of the stderr of `name`, a program that has ended, once its pipe is read to
    /// the end: the pump copies it on a thread of its own, which a loaded machine may not
    /// have run yet when the exit is known, and a traceback written just before the exit is
    /// what a failure quotes. Bounded, since a child the program left may hold stderr open.
    pub(crate) async fn stderr_end_once_read(&self, name: &str) -> Vec<u8> {
        self.wait_stderr_read(name).await;
        self.programs[name].handle.stderr().tail(cause::STDERR_END)
    }

    /// Waits until program `name`'s stderr was read to its end (see
    /// [`Self::stderr_end_once_read`]), at most [`OUTPUT_DRAIN`].
    async fn wait_stderr_read(&self, name: &str) {
        self.wait_output_read(|run| run.programs[name].handle.stderr().closed())
            .await;
    }

    /// Waits until `read` says the output it looks at was read to its end, at most
    /// [`OUTPUT_DRAIN`] (a child a program left may hold its pipe open).
    pub(crate) async fn wait_output_read(&self, read: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + OUTPUT_DRAIN;
        while !read(self) && Instant::now() < deadline {
            self.pause().await;
        }
    }

    /// Its wake-up, where its programs are real (see `crate::waiting::Stillness::endings`).
    fn endings_to_wait_on(&self) -> Option<crate::world::real::endings::Endings> {
        matches!(self.world, World::Real(_)).then(|| self.endings.clone())
    }

    /// Adds a line to the step log.
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.log.push(LogLine {
            at: self.started.elapsed(),
            text: text.into(),
        });
    }

    /// Connects to `endpoint` as a client following `plan`, over `family`.
    async fn connect_peer(
        &mut self,
        endpoint: &str,
        plan: &ClientPlan,
        family: Family,
    ) -> StepResult {
        let (host, port) = self.endpoint_address(endpoint)?;
        // Over IPv6, the same program at `::1` (the loopback of the other family).
        let host = match (family, &self.world) {
            (Family::Ipv4, _) => host,
            (Family::Ipv6, World::Real(_)) => Family::Ipv6.loopback().to_owned(),
            (Family::Ipv6, World::Simulated(_)) => {
                return Err(harness_trouble(
                    "the simulated network has IPv4 only".to_owned(),
                ));
            }
        };
        let send = crate::payload::fill_placeholders(&plan.send, |kind, target| {
            let (host, port) = match target {
                "unused" => (
                    self.world.peer_net().own_host().to_owned(),
                    self.fresh_port()?,
                ),
                _ => self.endpoint_address(target)?,
            };
            Ok::<_, StepFailure>(if kind == "host" {
                host
            } else {
                port.to_string()
            })
        })?;
        let plan = ClientPlan {
            send,
            ..plan.clone()
        };
        let name = plan.name.clone();
        let net = self.world.peer_net();
        let transcript = self.transcript.clone();
        transcript.name_program(&name, endpoint);
        match ClientPeer::connect(&net, &host, port, plan, self.seed, transcript).await {
            Ok(peer) => {
                self.peers.insert(name, peer);
                Ok(())
            }
            Err(error) => Err(StepFailure::fail(
                format!("{endpoint} to accept a connection on {host} port {port}"),
                format!("connecting failed: {error}{}", self.exit_note(endpoint)),
            )),
        }
    }

    /// Sends one datagram to `endpoint` from a harness socket named `name`.
    async fn send_datagram(&mut self, name: &str, endpoint: &str, send: &Payload) -> StepResult {
        let (host, port) = self.endpoint_address(endpoint)?;
        let net = self.world.peer_net();
        let transcript = self.transcript.clone();
        transcript.name_program(name, endpoint);
        let peer = DatagramPeer::send(&net, name, (&host, port), send, transcript)
            .await
            .map_err(|error| {
                harness_trouble(format!(
                    "cannot send a datagram to {host} port {port}: {error}"
                ))
            })?;
        self.datagram_peers.insert(name.to_owned(), peer);
        Ok(())
    }

    /// Starts a relay named `name` in front of `endpoint`.
    async fn start_relay(
        &mut self,
        name: &str,
        endpoint: &str,
        slicing: (SlicePlan, SlicePlan),
    ) -> StepResult {
        let (host, port) = self.endpoint_address(endpoint)?;
        let net = self.world.peer_net();
        let transcript = self.transcript.clone();
        transcript.name_program(name, endpoint);
        let relay = Relay::start(&net, name, (&host, port), slicing, self.seed, transcript)
            .await
            .map_err(|error| harness_trouble(format!("cannot start relay {name}: {error}")))?;
        self.note(format!(
            "relay {name} listens on port {} and forwards to {host} port {port}",
            relay.port
        ));
        self.relays.insert(name.to_owned(), relay);
        Ok(())
    }

    /// Ends the harness's connection `name`.
    async fn close_peer(&mut self, name: &str, how: CloseHow) -> StepResult {
        let peer = &self.peers[name];
        peer.close(how)
            .await
            .map_err(|error| harness_trouble(format!("cannot close {}: {error}", peer.plan.name)))
    }

    /// Cuts or restores the simulated network between two hosts.
    fn partition(&mut self, hosts: &[String; 2], repair: bool) -> StepResult {
        let hosts = [self.world.host_of(&hosts[0]), self.world.host_of(&hosts[1])];
        self.world
            .partition(&hosts[0], &hosts[1], repair)
            .map_err(harness_trouble)
    }

    /// The sockets of the harness in this run's world.
    /// The kit's folder (where `fixtures/` is).
    pub(crate) fn kit_root(&self) -> &std::path::Path {
        &self.scenario.kit_root
    }

    pub(crate) fn peer_net(&self) -> crate::world::sockets::PeerNet {
        self.world.peer_net()
    }

    /// The scenario's transcript.
    pub(crate) fn transcript(&self) -> Transcript {
        self.transcript.clone()
    }

    /// Time since the scenario started (simulated time in the simulated world).
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The host and port a name stands for: a program's `{port}` or a relay's.
    pub(crate) fn endpoint_address(&self, name: &str) -> StepResult<(String, u16)> {
        if let Some(relay) = self.relays.get(name) {
            return Ok((self.world.peer_net().own_host().to_owned(), relay.port));
        }
        if let Some(server) = self.servers.get(name) {
            let host = match (&self.world, server.family) {
                (World::Real(_), family) => family.loopback().to_owned(),
                _ => self.world.peer_net().own_host().to_owned(),
            };
            return Ok((host, server.port));
        }
        self.programs
            .get(name)
            .and_then(|program| Some((program.host.clone()?, program.port?)))
            .ok_or_else(|| {
                harness_trouble(format!(
                    "`{name}` has no port: it was started pointed at another program"
                ))
            })
    }

    /// ", (server exited with exit status 0 at +0.312s)" when a program has ended.
    fn exit_note(&self, name: &str) -> String {
        match self
            .programs
            .get(name)
            .and_then(|program| program.handle.exit_info())
        {
            Some(info) => format!(
                " ({name} had already ended: {} after {:.3}s)",
                info.kind,
                info.after.as_secs_f64()
            ),
            None => String::new(),
        }
    }

    async fn wait_peer(&mut self, name: &str, within: Duration) -> StepResult {
        let peer = &self.peers[name];
        let total = peer.plan.send.len();
        match peer.wait_sent(within).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                let sent = peer.sent();
                if let Some(stuck) = self.stuck_though_read(name) {
                    return Err(harness_trouble(format!(
                        "the harness could not send {name}'s {total} bytes within {} ms: the \
                         program had read all {sent} bytes sent so far, yet the connection took \
                         no more ({stuck}): not a defect of your program",
                        within.as_millis()
                    )));
                }
                Err(StepFailure::fail(
                    format!(
                        "{name} to send its {total} bytes within {} ms",
                        within.as_millis()
                    ),
                    format!("only {sent} bytes were accepted: the program is not reading"),
                ))
            }
            Err(error) => Err(StepFailure::fail(
                format!("{name} to send its {total} bytes"),
                format!("sending failed after {} bytes: {error}", peer.sent()),
            )),
        }
    }

    /// Where the harness's connection `name` could not send more although the program had
    /// read everything on it (its receiving queue empty in the kernel's tables, real world
    /// only): what the kernel says of the harness's end. A program that does not read
    /// leaves bytes in that queue; with none there, the stall is not the program's.
    fn stuck_though_read(&self, name: &str) -> Option<String> {
        if !matches!(self.world, World::Real(_)) {
            return None;
        }
        let (local, remote) = self.peers.get(name)?.ends;
        let program = crate::world::real::sock_diag::tcp_queues(remote, local)
            .ok()
            .flatten()?;
        if program.unread != 0 {
            return None;
        }
        let ours = crate::world::real::sock_diag::tcp_queues(local, remote)
            .ok()
            .flatten();
        Some(match ours {
            Some(ours) => format!(
                "the kernel held {} bytes of the harness's not acknowledged by the program's end",
                ours.unacknowledged
            ),
            None => "the harness's end is gone from the kernel's tables".to_owned(),
        })
    }

    /// [`crate::steps::Peers::wait_read_by_program`]: everything sent first, then the
    /// kernel's count of what is still on its way, looked at every 10 ms (real world; a
    /// simulated program's socket has no such count, and the simulated network delivers at
    /// once).
    async fn wait_read_by_program(&mut self, name: &str, within: Duration) -> StepResult {
        let started = Instant::now();
        self.wait_peer(name, within).await?;
        if !matches!(self.world, World::Real(_)) {
            // The simulated network keeps no count of what a program has not read: a
            // second of simulated time, deterministic, in which the reference (reading
            // even one byte at a time) takes what it was sent.
            tokio::time::sleep(SIMULATED_READ_TIME.min(within)).await;
            return Ok(());
        }
        let (harness_end, program_end) = self.peers[name].ends;
        let mut left = None;
        while started.elapsed() < within {
            left = crate::world::real::readiness::connection_in_flight(harness_end, program_end);
            if left.is_none_or(|bytes| bytes == 0) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(bytes) = left {
            self.note(format!(
                "{name}: the program had not read the last {bytes} bytes sent after {} ms",
                within.as_millis()
            ));
        }
        Ok(())
    }

    /// Waits for the program to end and checks its status.
    pub(crate) async fn expect_exit(
        &mut self,
        name: &str,
        expected: ExitExpectation,
        within: Duration,
    ) -> StepResult<ExitInfo> {
        let process = &self.programs[name].handle;
        let wanted = expected.wanted(name);
        let wanted = format!("{wanted} within {} ms", within.as_millis());
        let mut deadline = Deadline::start(&*self, within);
        let info = loop {
            let left = deadline.left();
            if let Some(info) = process.wait_exit(left.min(POLL)).await {
                break info;
            }
            // Blocked for good, it will not end by itself; unless an `alarm()` nobody
            // handles kills it: asked only where no alarm is ticking, or where such a
            // death would fail the step too.
            let alarm_death_holds = expected.holds(ExitKind::Signal(libc::SIGALRM));
            let stuck = (!alarm_death_holds || !blocked::alarm_may_be_set())
                .then(|| self.blocked_for_good())
                .flatten();
            if let Some(stuck) = stuck {
                return Err(StepFailure::fail(
                    wanted,
                    format!(
                        "{name} is still running and will not end by itself ({stuck}){}",
                        self.already_wrong(name)
                    ),
                ));
            }
            if deadline.passed(&*self) {
                return Err(StepFailure::fail(
                    wanted,
                    format!(
                        "{name} was still running {}{}",
                        deadline.describe_after(),
                        self.already_wrong(name)
                    ),
                ));
            }
        };
        let holds = expected.holds(info.kind);
        if !holds {
            // Quoted in the failure: read to its end first (see `stderr_end_once_read`).
            self.wait_stderr_read(name).await;
        }
        let stderr = excerpt(&self.programs[name].handle.stderr().head(400));
        self.note(format!(
            "{name} ended: {} after {:.3}s",
            info.kind,
            info.after.as_secs_f64()
        ));
        if holds {
            self.exits_accepted.insert(name.to_owned());
            Ok(info)
        } else {
            Err(StepFailure::fail(
                wanted,
                format!("{} (stderr: {stderr})", info.kind),
            ))
        }
    }

    /// Fails if the program `name`, which has ended, crashed (SPEC, conventions: an error
    /// is a message, never a crash): judged on how it ended and on the end of its stderr,
    /// once that is read to its end (a child it left may hold stderr open: bounded).
    pub(crate) async fn refuse_crash(&mut self, name: &str) -> StepResult {
        let Some(info) = self.programs[name].handle.exit_info() else {
            return Ok(());
        };
        let stderr_end = self.stderr_end_once_read(name).await;
        let Some(crash) = run_record::crash::recognise(info.kind, &stderr_end) else {
            return Ok(());
        };
        let evidence = crash.evidence.as_deref().map_or(String::new(), |line| {
            format!(": {}", excerpt(line.as_bytes()))
        });
        let failure = StepFailure::fail(
            format!("{name} to report its error with a message on stderr, not to crash"),
            format!("it crashed: {}{evidence}", crash.what),
        );
        // Its end is what the failure is about: the cause names the crash.
        self.exits_accepted.remove(name);
        self.crashes.insert(name.to_owned(), crash);
        Err(failure)
    }

    /// What `name`'s stdout so far already breaks of what the later steps check of it,
    /// whatever it prints after (an exact match gone wrong, a ping report whose pings were
    /// numbered from 0), as [`crate::outcome::ALREADY_WRONG`] and what follows it; empty
    /// if nothing is wrong yet. Said where `name` is still running but should have ended:
    /// those steps are never reached, and the student would hear only that it did not end.
    fn already_wrong(&self, name: &str) -> String {
        let scenario = self.scenario;
        let watched = Watched::Output {
            name,
            stream: OutputStream::Stdout,
        };
        let (capture, _) = self.watched_bytes(watched);
        let wrong: Vec<String> = scenario
            .steps
            .iter()
            .skip(self.step_number)
            .filter_map(|step| step.action.0.judges_stdout())
            .filter(|(program, expectation)| *program == name && self.can_judge_now(expectation))
            .filter_map(|(_, expectation)| {
                let mut verified = 0;
                let where_ = format!("{name}'s stdout");
                // Not final: only what no later output can mend fails.
                crate::judge::output::evaluate(
                    self,
                    &where_,
                    capture,
                    expectation,
                    false,
                    &mut verified,
                )
                .err()
            })
            .map(|failure| {
                format!(
                    "{}{}{})",
                    failure.seen,
                    crate::outcome::LATER_STEP_EXPECTS,
                    failure.expected
                )
            })
            .collect();
        if wrong.is_empty() {
            String::new()
        } else {
            format!("{}{}", crate::outcome::ALREADY_WRONG, wrong.join("; "))
        }
    }

    /// Whether every connection and server peer `expectation` names exists already: a later
    /// step may name one that a step never reached would have made.
    fn can_judge_now(&self, expectation: &OutputExpectation) -> bool {
        match expectation {
            OutputExpectation::EqualsSent(names) | OutputExpectation::AnyOrderOfSent(names) => {
                names.iter().all(|name| self.peers.contains_key(name))
            }
            OutputExpectation::NeverInClear { server, .. }
            | OutputExpectation::Connections { server, .. } => self.servers.contains_key(server),
            _ => true,
        }
    }

    /// Stops a program (SIGTERM, then SIGKILL) and returns how it ended.
    pub(crate) async fn stop(&mut self, name: &str) -> StepResult<ExitInfo> {
        let process = &self.programs[name].handle;
        // One that already ended (a crash) ended by itself, whatever the step asks.
        let was_running = process.exit_info().is_none();
        let info = process.terminate(STOP_GRACE).await.ok_or_else(|| {
            harness_trouble(format!(
                "{name} ({}) could not be reaped",
                process.whereabouts()
            ))
        })?;
        self.note(format!(
            "{name} stopped: {}, peak memory {} KiB",
            info.kind, info.max_rss_kib
        ));
        if was_running {
            self.stopped_by_step.insert(name.to_owned());
        }
        Ok(info)
    }

    /// Fails if a program printed more than its cap.
    fn check_floods(&self) -> StepResult {
        for (name, program) in &self.programs {
            let streams = [
                ("stdout", program.handle.stdout()),
                ("stderr", program.handle.stderr()),
            ];
            for (stream, capture) in streams {
                if capture.flooded() {
                    return Err(StepFailure::fail(
                        format!(
                            "{name} to print at most {} MiB on {stream}",
                            capture.cap() >> 20
                        ),
                        format!(
                            "it printed more and was stopped: {}",
                            excerpt(&capture.head(200))
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The bytes `watched` stands for; whether they are final (nothing more can come), and
    /// if so, why.
    fn watched_bytes(&self, watched: Watched) -> (&Capture, Option<String>) {
        match watched {
            Watched::Output { name, stream } => {
                let handle = &self.programs[name].handle;
                let capture = match stream {
                    OutputStream::Stdout => handle.stdout(),
                    OutputStream::Stderr => handle.stderr(),
                };
                // Final: the program has ended and its output is fully read.
                let ended = handle
                    .exit_info()
                    .filter(|_| capture.closed())
                    .map(|info| format!("{name} ended: {}", info.kind));
                (capture, ended)
            }
            Watched::Received { name } => {
                if let Some(peer) = self.peers.get(name) {
                    let capture = peer.received();
                    let ended = capture
                        .closed()
                        .then(|| format!("the program closed {name}'s connection"));
                    (capture, ended)
                } else if let Some(peer) = self.datagram_peers.get(name) {
                    (peer.received(), None)
                } else {
                    (self.servers[name].received(), None)
                }
            }
        }
    }

    /// Why nothing more can reach the server or datagram peer `name`: every program of the
    /// scenario has ended (and with it every process it started: `world::real::process`),
    /// and the peer has no connection open, and no connection or datagram waiting in the
    /// kernel. (Only programs reach a peer: a relay forwards to a program.) `None` while
    /// something still could come, where the world cannot tell (simulated), and where a
    /// stand-in passes connections on (it keeps no count).
    fn nothing_more_for(&self, name: &str) -> Option<String> {
        let every_program_ended = self
            .programs
            .values()
            .all(|program| program.handle.exit_info().is_some());
        if !every_program_ended || self.stand_ins_in_use() {
            return None;
        }
        let drained = match (self.servers.get(name), self.datagram_peers.get(name)) {
            (Some(server), _) => server.drained(),
            (_, Some(peer)) => peer.drained(),
            _ => None,
        };
        (drained == Some(true))
            .then(|| format!("every program has ended, and nothing more is on its way to {name}"))
    }

    /// Checks a program's output, or what a harness peer received, waiting up to `within`
    /// for the bytes to arrive.
    pub(crate) async fn expect_bytes(
        &mut self,
        watched: Watched<'_>,
        expectation: &OutputExpectation,
        within: Duration,
    ) -> StepResult {
        let where_ = match watched {
            Watched::Output { name, stream } => format!("{name}'s {}", stream.name()),
            Watched::Received { name } => format!("what {name} received"),
        };
        let mut deadline = Deadline::start(&*self, within);
        let mut verified = 0u64;
        let mut matched_at: Option<(Instant, u64)> = None;
        let mut drained_before = false;
        loop {
            // A datagram peer sent one datagram: its answer is one datagram too (SPEC
            // upper/4, boundaries kept), and once it came, nothing more is owed. Asked
            // before the bytes are read: a reply is kept before it is counted.
            let answered = match watched {
                Watched::Received { name } => self
                    .datagram_peers
                    .get(name)
                    .filter(|peer| peer.replies() > 0)
                    .map(|_| format!("{name}'s datagram was answered by one datagram")),
                Watched::Output { .. } => None,
            };
            let (capture, mut ended) = self.watched_bytes(watched);
            if ended.is_none()
                && let Watched::Received { name } = watched
            {
                // Believed on the second poll in a row only: a connection the kernel has
                // handed to an accept loop that has not counted it yet is between the two.
                let drained = self.nothing_more_for(name);
                if drained_before {
                    ended.clone_from(&drained);
                }
                drained_before = drained.is_some();
            }
            // Or no program can move any more (see `stillness`).
            let ended = ended.or_else(|| self.blocked_for_good());
            let is_final = ended.is_some();
            let verdict = crate::judge::output::evaluate(
                self,
                &where_,
                capture,
                expectation,
                is_final,
                &mut verified,
            )?;
            match verdict {
                Evaluation::Holds { settle } => {
                    if !settle || is_final {
                        return Ok(());
                    }
                    // Accept an exact match only once it has stayed unchanged a moment.
                    match matched_at {
                        Some((since, len)) if len == capture.len() && since.elapsed() >= SETTLE => {
                            return Ok(());
                        }
                        Some((_, len)) if len == capture.len() => {}
                        _ => matched_at = Some((Instant::now(), capture.len())),
                    }
                }
                Evaluation::SoFarSoGood => {
                    // Nothing more can come (a count of connections that can no longer
                    // grow), or the time is up.
                    if is_final || deadline.passed(&*self) {
                        return Ok(());
                    }
                }
                Evaluation::Pending { expected, seen } => {
                    matched_at = None;
                    if is_final || answered.is_some() || deadline.passed(&*self) {
                        let when = ended
                            .or(answered)
                            .unwrap_or_else(|| deadline.describe_after());
                        return Err(StepFailure::fail(expected, format!("{seen} ({when})")));
                    }
                }
            }
            self.pause().await;
        }
    }
}
