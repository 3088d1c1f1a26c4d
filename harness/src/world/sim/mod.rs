//! The simulated world: the reference's programs on turmoil hosts.
//!
//! Every program of a scenario is a simulated host named after it (`server`, `client`);
//! the harness itself (its client peers, its relays, the scenario's steps) runs on the
//! host `harness`. Time is simulated: a 5-second deadline costs no real second, and the
//! whole run (network, scheduling, every random choice including tokio's own, seeded
//! through the `tokio_unstable` cfg) follows from the seed, so the same seed gives the
//! same transcript, byte for byte.
//!
//! Faults that a loopback will not produce on demand are exact here: streams cut into
//! short reads and writes and gathered across writes ([`crate::faults::ShortIo`]), a
//! client started before its server, resets ([`ResetBoard`]), and, for the lab
//! questions, latency, datagram loss and partitions from turmoil itself.

mod host;
mod network;
pub mod programs;
pub(crate) mod reset;

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use host::{HostSlot, ProgramState, StartOrder};
pub use network::{SimNetwork, StreamFaults};
pub use reset::{ResetBoard, Resettable};

use crate::faults::{DatagramPlan, SlicePlan, fnv1a};
use crate::world::ProgramHandle;
use crate::world::capture::Capture;
use crate::world::real::process::{ExitInfo, ExitKind, ProcessSpec};

pub use super::sockets::HARNESS_HOST;
/// First port handed to simulated programs (each scenario starts again from here).
const FIRST_PORT: u16 = 9000;

/// How a simulated run is faulted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimOptions {
    /// How the reference's reads and writes are cut (`None`: whole, as turmoil delivers).
    pub short_io: Option<SlicePlan>,
    /// One-way latency of every message between hosts.
    pub latency: Duration,
    /// Loss, duplication and reordering of the datagrams programs send.
    pub datagrams: DatagramPlan,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            short_io: Some(SlicePlan {
                size: crate::faults::Range::Between([1, 1500]),
                gap_ms: crate::faults::Range::Exactly(0),
            }),
            latency: Duration::from_millis(1),
            datagrams: DatagramPlan::default(),
        }
    }
}

/// The simulated programs of one scenario run, shared by the harness's steps, the hosts
/// and the loop that drives the simulation.
#[derive(Clone)]
pub struct SimWorld {
    hosts: Arc<BTreeMap<String, Arc<HostSlot>>>,
    faults: StreamFaults,
    next_port: Arc<AtomicU16>,
    /// Hosts to crash at the next step of the simulation.
    crashes: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for SimWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWorld")
            .field("hosts", &self.hosts.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl SimWorld {
    fn new(names: &[String], faults: StreamFaults) -> SimWorld {
        let hosts = names
            .iter()
            .map(|name| (name.clone(), Arc::new(HostSlot::new(name))))
            .collect();
        SimWorld {
            hosts: Arc::new(hosts),
            faults,
            next_port: Arc::new(AtomicU16::new(FIRST_PORT)),
            crashes: Arc::default(),
        }
    }

    /// Where resets are posted.
    pub fn board(&self) -> &ResetBoard {
        &self.faults.board
    }

    /// A port for a program (every program has a host of its own, so any port is free).
    pub fn fresh_port(&self) -> u16 {
        self.next_port.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts the program `name` on its host.
    pub fn start(&self, name: &str, spec: &ProcessSpec) -> io::Result<ProgramHandle> {
        let slot = self.hosts.get(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no simulated host `{name}`"),
            )
        })?;
        if spec.hold_stdin {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a stdin held open (`hold_stdin`) is real world only",
            ));
        }
        let state = Arc::new(ProgramState::new(spec.output_cap));
        let mut argv = spec.argv.clone();
        // A simulated host has no environment of its own: the test CA is handed to the
        // reference (an smtp-client: the only program that trusts the harness's TLS
        // peers) on its command line instead of through SSL_CERT_FILE.
        if let Some(trust_file) = &spec.trust_file {
            argv.push("--ca-file".into());
            argv.push(trust_file.display().to_string());
        }
        slot.order(StartOrder {
            argv: argv.clone(),
            stdin: spec.stdin.clone(),
            occupied_port: spec.occupied_port,
            state: Arc::clone(&state),
        });
        Ok(ProgramHandle::Simulated(SimProgram {
            host: name.to_owned(),
            command_line: shell_words::join(&argv),
            exit: state.exit_watch(),
            state,
            world: self.clone(),
        }))
    }

    fn request_crash(&self, host: &str) {
        self.crashes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(host.to_owned());
    }

    fn take_crashes(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .crashes
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn state_of(&self, host: &str) -> Option<Arc<ProgramState>> {
        self.hosts.get(host).and_then(|slot| slot.program())
    }
}

/// A program on a simulated host.
#[derive(Debug)]
pub struct SimProgram {
    /// Its host (the program's name in the scenario).
    pub host: String,
    /// The command line it was given.
    pub command_line: String,
    state: Arc<ProgramState>,
    exit: tokio::sync::watch::Receiver<Option<ExitInfo>>,
    world: SimWorld,
}

impl SimProgram {
    /// Captured stdout.
    pub fn stdout(&self) -> &Capture {
        &self.state.stdout
    }

    /// Captured stderr.
    pub fn stderr(&self) -> &Capture {
        &self.state.stderr
    }

    /// How it ended, if it has.
    pub fn exit_info(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    /// Waits up to `within` (simulated time) for the end.
    pub async fn wait_exit(&self, within: Duration) -> Option<ExitInfo> {
        let mut exit = self.exit.clone();
        match tokio::time::timeout(within, exit.wait_for(Option::is_some)).await {
            Ok(Ok(info)) => *info,
            _ => self.exit_info(),
        }
    }

    /// Crashes the host (its software stops at once, as with SIGKILL; its sockets close).
    pub async fn terminate(&self) -> Option<ExitInfo> {
        if self.exit_info().is_none() {
            self.world.request_crash(&self.host);
        }
        // The crash happens between two steps of the simulation: a tick at most.
        self.wait_exit(Duration::from_secs(1)).await
    }

    /// Crashes the host if it still runs.
    pub fn kill(&self) {
        if self.exit_info().is_none() {
            self.world.request_crash(&self.host);
        }
    }

    /// Whether it listens on `port`.
    pub fn listens_on(&self, port: u16) -> bool {
        self.state
            .listening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&port)
    }
}

/// A simulation ready to run: a host for each program named in `names`, faulted as
/// `options` say, for the scenario `scenario_id` run with `seed`; it runs for at most
/// `duration` of simulated time.
pub(crate) fn build(
    names: &[String],
    options: &SimOptions,
    seed: u64,
    scenario_id: &str,
    duration: Duration,
) -> (SimWorld, turmoil::Sim<'static>) {
    let faults = StreamFaults {
        short_io: options.short_io,
        datagrams: options.datagrams,
        seed,
        board: ResetBoard::default(),
    };
    let world = SimWorld::new(names, faults.clone());
    let mut sim = turmoil::Builder::new()
        // One seed for everything: the simulation's choices and, through it, every host's
        // tokio runtime. Mixed with the scenario's id so scenarios do not share a stream.
        .rng_seed(seed ^ fnv1a(scenario_id.as_bytes()))
        // A fixed epoch: wall-clock time inside the simulation does not depend on today.
        .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .simulation_duration(duration)
        .min_message_latency(options.latency)
        .max_message_latency(options.latency)
        .tcp_capacity(1024)
        .build();
    for (name, slot) in world.hosts.iter() {
        let (slot, faults) = (Arc::clone(slot), faults.clone());
        sim.host(name.as_str(), move || {
            let (slot, faults) = (Arc::clone(&slot), faults.clone());
            async move {
                slot.run(faults).await;
                Ok(())
            }
        });
    }
    (world, sim)
}

/// Runs `sim` until its clients (the harness's own task) are done, crashing the hosts the
/// steps asked to crash between two steps of the simulation.
pub(crate) fn drive(world: &SimWorld, sim: &mut turmoil::Sim<'_>) -> Result<(), String> {
    loop {
        match sim.step() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => return Err(format!("the simulation stopped: {error}")),
        }
        for host in world.take_crashes() {
            sim.crash(host.as_str());
            if let Some(state) = world.state_of(&host) {
                state.ended(ExitKind::Signal(libc::SIGTERM), sim.elapsed());
            }
        }
    }
}
