//! `calc-single PORT`: one client at a time (SPEC calc/3).
//!
//! The simplest server: accept a client, serve it until it leaves, accept the next. While
//! one client is connected, the next one's connection waits in the kernel's accept queue
//! (the handshake is done, what it sends is buffered) and is served after: it does not
//! get an answer before the first client has left.

use std::process::ExitCode;

use clap::Parser;

use super::{ServerArgs, serve_client};
use crate::line_server::{bind, report_client};

const PROGRAM: &str = "calc-single";

/// Runs `calc-single` with the process's arguments: serves until killed, and returns only if it
/// cannot listen.
pub fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    loop {
        match listener.accept() {
            // Serve this client to its end before accepting anyone else.
            Ok((stream, peer)) => {
                if let Err(error) = serve_client(stream) {
                    report_client(PROGRAM, Some(peer), error);
                }
            }
            // A failed accept concerns one client (or a moment of too many open files).
            Err(error) => report_client(PROGRAM, None, error),
        }
    }
}
