//! `calc-threaded PORT`: an operating-system thread per client (SPEC calc/4).
//!
//! The main thread only accepts; each client gets a thread that runs the same blocking
//! loop as `calc-single`. While one thread waits in `recv` for a client that is slow to
//! finish its line, the others run: clients never wait for each other. The threads share
//! nothing (each has its own socket and line buffer), so no lock is needed.

use std::process::ExitCode;

use clap::Parser;

use super::{ServerArgs, serve_client};
use crate::line_server::{bind, serve_each_on_a_thread};

const PROGRAM: &str = "calc-threaded";

/// Runs `calc-threaded` with the process's arguments: serves until killed, and returns only if it
/// cannot listen.
pub fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    // The accept loop and the thread per client: `line_server::serve_each_on_a_thread`.
    serve_each_on_a_thread(PROGRAM, listener, serve_client)
}
