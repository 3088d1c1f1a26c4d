//! Where scenarios run.
//!
//! - [`real`]: each role is a child process on this machine, talking over loopback.
//! - [`sim`]: each role is the reference's own function on a simulated host (turmoil),
//!   deterministic for a seed.
//!
//! The engine plays the same scenario steps in both; [`World`] and [`ProgramHandle`] are
//! the few places where they differ: how a program starts and ends, where its output goes,
//! how the harness knows it listens, and which sockets the harness's own peers use.

pub mod backlog;
pub mod capture;
pub mod prompts;
pub mod real;
pub mod sim;
pub mod sockets;

use std::io;
use std::time::Duration;

use capture::Capture;
use real::process::{ChildProcess, ExitInfo, ExitKind, ProcessSpec};
use sim::{SimProgram, SimWorld};
use sockets::PeerNet;

/// How long a program killed at the end of a scenario has for its `sandbox-init` to be
/// reaped and report how it ended: a moment, even on a loaded machine.
const KILLED_REPORT_WAIT: Duration = Duration::from_secs(2);

pub use sockets::HARNESS_HOST;

/// The world a scenario runs in.
#[derive(Debug, Clone)]
pub enum World {
    /// Child processes on loopback: a network of the scenario's own, or the machine's
    /// loopback with the scenario's block of ports.
    Real(real::ports::Loopback),
    /// Reference programs on simulated hosts.
    Simulated(SimWorld),
}

impl World {
    /// The sockets of the harness's peers and relays.
    pub fn peer_net(&self) -> PeerNet {
        match self {
            World::Real(loopback) => PeerNet::Real(loopback.clone()),
            World::Simulated(world) => PeerNet::Simulated(world.board().clone()),
        }
    }

    /// The host name another program uses to reach program `name`.
    pub fn host_of(&self, name: &str) -> String {
        match self {
            World::Real(_) => "127.0.0.1".into(),
            World::Simulated(_) => name.into(),
        }
    }

    /// A port nobody listens on, for a program.
    pub fn fresh_port(&self) -> io::Result<u16> {
        match self {
            World::Real(loopback) => loopback.fresh_port(),
            World::Simulated(world) => Ok(world.fresh_port()),
        }
    }

    /// A port another socket already listens on, for program `name` to fail to bind
    /// (`fixed`: the program always uses that port).
    pub fn occupy_port(&self, name: &str, fixed: Option<u16>) -> io::Result<OccupiedPort> {
        match self {
            World::Real(loopback) => {
                let port = match fixed {
                    Some(port) => port,
                    None => loopback.fresh_port()?,
                };
                let occupant = std::net::TcpListener::bind(("0.0.0.0", port))?;
                Ok(OccupiedPort {
                    port,
                    occupant: Some(occupant),
                    note: format!("the harness holds port {port} (a listening socket)"),
                })
            }
            // The occupant must be on the program's own host: the host binds the port
            // itself before the program starts (`ProcessSpec::occupied_port`).
            World::Simulated(world) => {
                let port = fixed.unwrap_or_else(|| world.fresh_port());
                Ok(OccupiedPort {
                    port,
                    occupant: None,
                    note: format!("another socket on {name}'s host holds port {port}"),
                })
            }
        }
    }

    /// Cuts (or, with `repair`, restores) the network between two hosts, both ways.
    pub fn partition(&self, a: &str, b: &str, repair: bool) -> Result<(), String> {
        match self {
            // The loader only lets `partition` into scenarios marked `world = "simulated"`,
            // which real grading skips.
            World::Real(_) => Err("network partitions exist only in the simulated world".into()),
            World::Simulated(_) => {
                if repair {
                    turmoil::repair(a, b);
                } else {
                    turmoil::partition(a, b);
                }
                Ok(())
            }
        }
    }

    /// Starts program `name`.
    pub fn start(&self, name: &str, spec: &ProcessSpec) -> io::Result<ProgramHandle> {
        match self {
            World::Real(_) => Ok(ProgramHandle::Real(ChildProcess::spawn(spec)?)),
            World::Simulated(world) => world.start(name, spec),
        }
    }
}

/// A port taken by someone else.
#[derive(Debug)]
pub struct OccupiedPort {
    /// The port.
    pub port: u16,
    /// The socket holding it, to keep open while the program runs (real world).
    pub occupant: Option<std::net::TcpListener>,
    /// Who holds it, for the step log.
    pub note: String,
}

/// A started program, in either world.
#[derive(Debug)]
pub enum ProgramHandle {
    /// A child process.
    Real(ChildProcess),
    /// A simulated host.
    Simulated(SimProgram),
}

impl ProgramHandle {
    /// The command line as reports show it.
    pub fn command_line(&self) -> &str {
        match self {
            ProgramHandle::Real(process) => &process.command_line,
            ProgramHandle::Simulated(program) => &program.command_line,
        }
    }

    /// Where it runs: `pid 1234` or `simulated host server`.
    pub fn whereabouts(&self) -> String {
        match self {
            ProgramHandle::Real(process) => format!("pid {}", process.pid),
            ProgramHandle::Simulated(program) => format!("simulated host {}", program.host),
        }
    }

    /// Its working directory (a child's; a simulated host has none).
    pub fn folder(&self) -> Option<&std::path::Path> {
        match self {
            ProgramHandle::Real(process) => Some(&process.workdir),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Its peak memory so far, in bytes: while it runs, its live processes' (see
    /// [`ChildProcess::peak_memory`]); once it has ended, its exit's (wait4's peak resident
    /// set size of it and of the children it waited for: a client's whole run). A
    /// simulated host has none.
    pub fn peak_memory(&self) -> Option<u64> {
        match self {
            ProgramHandle::Real(process) => match process.exit_info() {
                Some(exit) if exit.max_rss_kib > 0 => Some(exit.max_rss_kib << 10),
                _ => process.peak_memory(),
            },
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Closes a stdin held open (`hold_stdin`; a simulated program never has one).
    pub fn close_stdin(&self) {
        if let ProgramHandle::Real(process) = self {
            process.close_stdin();
        }
    }

    /// Captured stdout.
    pub fn stdout(&self) -> &Capture {
        match self {
            ProgramHandle::Real(process) => &process.stdout,
            ProgramHandle::Simulated(program) => program.stdout(),
        }
    }

    /// Captured stderr.
    pub fn stderr(&self) -> &Capture {
        match self {
            ProgramHandle::Real(process) => &process.stderr,
            ProgramHandle::Simulated(program) => program.stderr(),
        }
    }

    /// How it ended, if it has.
    pub fn exit_info(&self) -> Option<ExitInfo> {
        match self {
            ProgramHandle::Real(process) => process.exit_info(),
            ProgramHandle::Simulated(program) => program.exit_info(),
        }
    }

    /// Waits up to `within` for it to end.
    pub async fn wait_exit(&self, within: Duration) -> Option<ExitInfo> {
        match self {
            ProgramHandle::Real(process) => process.wait_exit(within).await,
            ProgramHandle::Simulated(program) => program.wait_exit(within).await,
        }
    }

    /// Stops it: SIGTERM, then SIGKILL after `grace` (a simulated host crashes at once).
    pub async fn terminate(&self, grace: Duration) -> Option<ExitInfo> {
        match self {
            ProgramHandle::Real(process) => process.terminate(grace).await,
            ProgramHandle::Simulated(program) => program.terminate().await,
        }
    }

    /// Whether it runs or is ending (see [`ChildProcess::busy`]); a simulated program
    /// never says.
    pub fn busy(&self) -> bool {
        match self {
            ProgramHandle::Real(process) => process.busy(),
            ProgramHandle::Simulated(_) => false,
        }
    }

    /// Whether a real program has ended and its report is late (see
    /// [`real::process::ChildProcess::ending`]); a simulated program's end is never late.
    pub fn ending(&self) -> bool {
        match self {
            ProgramHandle::Real(process) => process.ending(),
            ProgramHandle::Simulated(_) => false,
        }
    }

    /// After [`ProgramHandle::kill`] of a program that had not ended: how it ended by
    /// itself just before, or `None` when the kill ended it. On a loaded machine a real
    /// program's `sandbox-init` may report an exit a moment late; what it reports after the
    /// kill tells: an exit status, or a signal other than the harness's SIGKILL. (A
    /// simulated program's end is never late.)
    pub async fn ended_before_kill(&self) -> Option<ExitInfo> {
        match self {
            ProgramHandle::Real(process) => process
                .wait_exit(KILLED_REPORT_WAIT)
                .await
                .filter(|exit| exit.kind != ExitKind::Signal(libc::SIGKILL)),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Kills it (and whatever it started) now.
    pub fn kill(&self) {
        match self {
            ProgramHandle::Real(process) => process.kill(),
            ProgramHandle::Simulated(program) => program.kill(),
        }
    }

    /// Why its sandbox failed before it ran, if it did (a simulated program has none).
    pub fn sandbox_trouble(&self) -> Option<String> {
        match self {
            ProgramHandle::Real(process) => process.sandbox_trouble(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Whether the memory or disk cap stopped it or a process it forked (a simulated
    /// program has none).
    pub fn cap_stop(&self) -> Option<real::process::HarnessStop> {
        match self {
            ProgramHandle::Real(process) => process.cap_stop(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// The most memory it and what it forked held at once, in bytes, where the sandbox
    /// measures it (a simulated program has none).
    pub fn memory_peak(&self) -> Option<u64> {
        match self {
            ProgramHandle::Real(process) => process.memory_peak(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Once it has ended, the largest peak resident set size of any of its processes, in
    /// KiB, children it never waited for included (see
    /// [`ChildProcess::largest_process_kib`]); a simulated host has none.
    pub fn largest_process_kib(&self) -> Option<u64> {
        match self {
            ProgramHandle::Real(process) => process.largest_process_kib(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// What the interposed library moved of what it hard-codes, on a shared loopback
    /// (`bind 12000>41234`; see [`real::redirect`]); nothing in the simulated world.
    pub fn redirections(&self) -> Vec<String> {
        match self {
            ProgramHandle::Real(process) => process.redirections(),
            ProgramHandle::Simulated(_) => Vec::new(),
        }
    }

    /// How many times it has connected a TCP socket, where the interposed library tells
    /// (a shared loopback); `None` elsewhere.
    pub fn connect_attempts(&self) -> Option<u64> {
        match self {
            ProgramHandle::Real(process) => process.connect_attempts(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// What must be blocked for a running program to be blocked for good (see
    /// [`real::process::ChildProcess::threads_to_look_at`]); `None` in the simulated
    /// world, which cannot tell.
    pub fn threads_to_look_at(&self) -> Option<real::blocked::Looked> {
        match self {
            ProgramHandle::Real(process) => process.threads_to_look_at(),
            ProgramHandle::Simulated(_) => None,
        }
    }

    /// Its processes as far as they can be listed (see
    /// [`real::process::ChildProcess::processes`]); none in the simulated world, whose
    /// time is its own.
    pub fn processes(&self) -> Vec<i32> {
        match self {
            ProgramHandle::Real(process) => process.processes(),
            ProgramHandle::Simulated(_) => Vec::new(),
        }
    }

    /// Whether it listens on `port`, and with `look_elsewhere`, when it does not, on which
    /// other TCP ports (the simulated world's programs are the reference, listening where
    /// they are told: none are listed).
    pub fn listening(&self, port: u16, look_elsewhere: bool) -> real::readiness::GroupListening {
        match self {
            ProgramHandle::Real(process) => {
                real::readiness::group_listening(process.pid, port, look_elsewhere)
            }
            ProgramHandle::Simulated(program) => real::readiness::GroupListening {
                on_port: program.listens_on(port),
                tcp_elsewhere: look_elsewhere.then(Vec::new),
            },
        }
    }
}
