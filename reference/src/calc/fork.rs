//! `calc-fork PORT`: a process per client (SPEC calc/4).
//!
//! After `accept`, the server calls `fork()`: the child is a copy of the server that
//! serves this one client and exits; the parent closes its copy of the client's socket
//! and goes back to `accept`. A child that crashes takes only its own client with it.
//!
//! Two details every forking server needs:
//! - the parent must close the client's socket (else the connection stays open after the
//!   child is done), and the child the listening socket (it never accepts);
//! - ended children must be reaped, or each stays a zombie: ignoring `SIGCHLD` asks the
//!   kernel to reap them itself.

use std::process::ExitCode;

use clap::Parser;

use super::{ServerArgs, serve_client};
use crate::line_server::{bind, report_client};

const PROGRAM: &str = "calc-fork";

/// Runs `calc-fork` with the process's arguments: serves until killed, and returns only if it
/// cannot start.
pub fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    // SAFETY: setting a signal's disposition to SIG_IGN runs no code of ours.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
    }
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                report_client(PROGRAM, None, error);
                continue;
            }
        };
        // SAFETY: this program has one thread, so the child is a complete copy of it (no
        // lock is held by a thread that does not exist in the child).
        match unsafe { libc::fork() } {
            -1 => report_client(PROGRAM, Some(peer), std::io::Error::last_os_error()),
            0 => {
                // The child: serves this client, then exits.
                drop(listener);
                let status = match serve_client(stream) {
                    Ok(()) => 0,
                    Err(error) => {
                        report_client(PROGRAM, Some(peer), error);
                        1
                    }
                };
                std::process::exit(status);
            }
            // The parent: the child has its own copy of the socket.
            _child => drop(stream),
        }
    }
}
