//! # `wait-service`: wait until a TCP service accepts connections
//!
//! Its contract: `scenarios/SPEC.md#wait-service`, clauses `wait/1`–`wait/3`.
//!
//! `wait-service HOST PORT [--timeout SECS]` tries to connect; when a connection is
//! accepted it closes it and exits 0; otherwise it waits a little and tries again, until
//! the timeout (none: forever), and then exits 1 with a message on stderr. Scripts use it
//! to start a client only once its server is up.
//!
//! Two things decide whether it is any good:
//! - **how soon it notices** (wait/1: within 0.5 s of the service starting): the pause
//!   between attempts bounds the delay, so it is short, [`RETRY_PAUSE`];
//! - **how hard it knocks meanwhile** (wait/3: at most 20 attempts per second): a loop
//!   that retries without pausing makes thousands of connections a second and takes a CPU
//!   for nothing. 100 ms between attempts is 10 per second at most.
//!
//! Each attempt is bounded too ([`ATTEMPT_LIMIT`]): a host that drops packets instead of
//! refusing would otherwise hold one `connect` for minutes.

use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

const PROGRAM: &str = "wait-service";

/// The pause between two attempts.
pub const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The longest one attempt may take.
pub const ATTEMPT_LIMIT: Duration = Duration::from_secs(1);

/// Waits until HOST:PORT accepts a TCP connection.
#[derive(Parser)]
#[command(name = "wait-service")]
struct Args {
    /// The service's host.
    host: String,
    /// Its TCP port.
    port: u16,
    /// Give up after this many seconds (default: wait forever).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
}

/// Runs `wait-service` with the process's arguments: exits 0 once a connection is accepted, 1 when
/// the timeout runs out.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let deadline = match args.timeout {
        Some(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            Some(Instant::now() + Duration::from_secs_f64(seconds))
        }
        Some(seconds) => {
            eprintln!("{PROGRAM}: --timeout must be a number of seconds, not {seconds}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let started = Instant::now();
    loop {
        match attempt(&args.host, args.port) {
            Ok(()) => {
                eprintln!(
                    "{PROGRAM}: {}:{} accepts connections (after {:.1} s)",
                    args.host,
                    args.port,
                    started.elapsed().as_secs_f64()
                );
                return ExitCode::SUCCESS;
            }
            Err(error) => {
                if deadline.is_some_and(|deadline| Instant::now() + RETRY_PAUSE > deadline) {
                    eprintln!(
                        "{PROGRAM}: {}:{} still not up after {:.1} s: {error}",
                        args.host,
                        args.port,
                        started.elapsed().as_secs_f64()
                    );
                    return ExitCode::FAILURE;
                }
            }
        }
        // Paced: at most 1 / RETRY_PAUSE attempts a second, however fast refusals come.
        thread::sleep(RETRY_PAUSE);
    }
}

/// One connection attempt to every address of `host`; the connection is closed at once.
fn attempt(host: &str, port: u16) -> Result<(), String> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {host}: {error}"))?;
    let mut last_error = "no address".to_owned();
    for address in addresses {
        match TcpStream::connect_timeout(&address, ATTEMPT_LIMIT) {
            Ok(_connection) => return Ok(()),
            Err(error) => last_error = error.to_string(),
        }
    }
    Err(last_error)
}
