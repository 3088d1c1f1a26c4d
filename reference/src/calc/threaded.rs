//! `calc-threaded PORT`: an operating-system thread per client (SPEC calc/4).
//!
//! The main thread only accepts; each client gets a thread that runs the same blocking
//! loop as `calc-single`. While one thread waits in `recv` for a client that is slow to
//! finish its line, the others run: clients never wait for each other. The threads share
//! nothing (each has its own socket and line buffer), so no lock is needed.

use std::process::ExitCode;
use std::thread;

use clap::Parser;

use super::{ServerArgs, serve_client};
use crate::line_server::{bind, report_client};

const PROGRAM: &str = "calc-threaded";

/// Each thread's stack: the serving loop needs little (its buffer is on the heap), and
/// hundreds of clients at 8 MiB of address space each would be gigabytes.
const STACK: usize = 256 * 1024;

pub fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                report_client(PROGRAM, None, error);
                continue;
            }
        };
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .stack_size(STACK)
            .spawn(move || {
                if let Err(error) = serve_client(stream) {
                    report_client(PROGRAM, Some(peer), error);
                }
            });
        // No thread (the system's limit): this client is closed, the others go on.
        if let Err(error) = spawned {
            report_client(PROGRAM, Some(peer), error);
        }
    }
}
