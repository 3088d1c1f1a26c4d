//! Simulated hosts: one per program of a scenario, idle until the scenario starts it.
//!
//! turmoil wants every host registered before the simulation runs, but a scenario starts
//! its programs when it reaches their `start` step (a client may start long before its
//! server, or without one). So each program's host runs a small piece of software that
//! waits for its start order, then runs the reference function with in-memory streams.

use std::collections::BTreeSet;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reference::cli::Stdio;
use tokio::sync::{Notify, watch};

use super::network::{SimNetwork, StreamFaults};
use super::programs;
use crate::payload::Payload;
use crate::world::capture::{Capture, CaptureWriter};
use crate::world::real::process::{ExitInfo, ExitKind};

/// What a program prints and how it ended, shared by its host and the harness.
#[derive(Debug)]
pub(super) struct ProgramState {
    /// Captured stdout.
    pub stdout: Arc<Capture>,
    /// Captured stderr.
    pub stderr: Arc<Capture>,
    /// Ports it listens on.
    pub listening: Arc<Mutex<BTreeSet<u16>>>,
    exit: watch::Sender<Option<ExitInfo>>,
    /// Simulated time at which it started.
    started: Mutex<Option<Duration>>,
}

impl ProgramState {
    /// A program that has not started yet; output capped at `output_cap` bytes.
    pub(super) fn new(output_cap: u64) -> ProgramState {
        ProgramState {
            stdout: Arc::new(Capture::memory(output_cap)),
            stderr: Arc::new(Capture::memory(output_cap.min(16 << 20))),
            listening: Arc::default(),
            exit: watch::channel(None).0,
            started: Mutex::new(None),
        }
    }

    /// Watches for the end of the program.
    pub(super) fn exit_watch(&self) -> watch::Receiver<Option<ExitInfo>> {
        self.exit.subscribe()
    }

    /// Records the end, unless it already ended; `now` is the simulated time.
    pub(super) fn ended(&self, kind: ExitKind, now: Duration) {
        let started = self
            .started
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .unwrap_or(now);
        self.exit.send_if_modified(|exit| {
            if exit.is_some() {
                return false;
            }
            *exit = Some(ExitInfo {
                kind,
                // A simulated host has no memory of its own to measure.
                max_rss_kib: 0,
                after: now.saturating_sub(started),
            });
            true
        });
        self.stdout.close();
        self.stderr.close();
    }
}

/// What the scenario asks a host to run.
pub(super) struct StartOrder {
    /// The command line; the first word names the reference program.
    pub argv: Vec<String>,
    /// Its stdin.
    pub stdin: Option<Payload>,
    /// A port to occupy on the host before the program starts (the "port in use" case).
    pub occupied_port: Option<u16>,
    /// Where its output and exit go.
    pub state: Arc<ProgramState>,
}

/// A host waiting for (or running) its program.
pub(super) struct HostSlot {
    /// The host's name: the program's name in the scenario.
    pub name: String,
    order: Mutex<Option<StartOrder>>,
    ordered: Notify,
    /// The program it was ordered to run, once ordered.
    program: Mutex<Option<Arc<ProgramState>>>,
}

impl HostSlot {
    /// An idle host.
    pub(super) fn new(name: &str) -> HostSlot {
        HostSlot {
            name: name.to_owned(),
            order: Mutex::new(None),
            ordered: Notify::new(),
            program: Mutex::new(None),
        }
    }

    /// The program it was ordered to run, if any.
    pub(super) fn program(&self) -> Option<Arc<ProgramState>> {
        self.program
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Tells the host to start its program.
    pub(super) fn order(&self, order: StartOrder) {
        *self
            .program
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::clone(&order.state));
        *self
            .order
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(order);
        self.ordered.notify_one();
    }

    async fn next_order(&self) -> StartOrder {
        loop {
            if let Some(order) = self
                .order
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take()
            {
                return order;
            }
            self.ordered.notified().await;
        }
    }

    /// The host's software: wait for the order, run the program, record how it ended.
    pub(super) async fn run(&self, faults: StreamFaults) {
        let order = self.next_order().await;
        let state = Arc::clone(&order.state);
        let now = || turmoil::sim_elapsed().unwrap_or_default();
        *state
            .started
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now());
        // Someone else's socket on the port, held for as long as the program runs.
        let _occupant = match order.occupied_port {
            Some(port) => turmoil::net::TcpListener::bind(("0.0.0.0", port))
                .await
                .ok(),
            None => None,
        };
        let seed = faults.seed;
        let network = SimNetwork::new(&self.name, faults, Arc::clone(&state.listening));
        let stdin: Vec<u8> = match &order.stdin {
            Some(payload) => read_payload(payload).unwrap_or_default(),
            None => Vec::new(),
        };
        let stdio = Stdio {
            stdin: Box::new(io::Cursor::new(stdin)),
            stdout: Box::new(CaptureWriter(Arc::clone(&state.stdout))),
            stderr: Box::new(CaptureWriter(Arc::clone(&state.stderr))),
        };
        let program_name = order
            .argv
            .first()
            .map(|path| path.rsplit('/').next().unwrap_or(path).to_owned())
            .unwrap_or_default();
        let status = match programs::launch(&program_name, network, order.argv.clone(), stdio, seed)
        {
            Some(program) => program.await,
            None => {
                let _ = state.stderr.append(
                    format!("{program_name}: no simulated version of this program\n").as_bytes(),
                );
                127
            }
        };
        state.ended(ExitKind::Code(status), now());
    }
}

fn read_payload(payload: &Payload) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(payload.len() as usize);
    io::Read::read_to_end(&mut payload.reader()?, &mut bytes)?;
    Ok(bytes)
}
