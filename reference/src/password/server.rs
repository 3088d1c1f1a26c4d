//! `password-server PORT --password SECRET`: answers each line with `access granted` or
//! `access denied`, a thread per client (the loop of `calc-threaded`,
//! [`crate::line_server::serve_each_on_a_thread`]).

use std::io;
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::line_server::{bind, serve_each_on_a_thread, serve_lines};

const PROGRAM: &str = "password-server";

/// Password dialogue server: `access granted` or `access denied` per line.
#[derive(Parser)]
#[command(name = "password-server")]
struct Args {
    /// TCP port to listen on.
    port: u16,
    /// The password that grants access.
    #[arg(long)]
    password: String,
}

/// Runs `password-server` with the process's arguments: serves until killed, and returns only if it
/// cannot listen.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    let password: Arc<[u8]> = args.password.into_bytes().into();
    serve_each_on_a_thread(PROGRAM, listener, move |stream| {
        serve_client(stream, &password)
    })
}

/// Answers every attempt of one client until it closes, in a fixed 4 KiB line buffer: an
/// attempt longer than it is denied, not stored (pass/2).
fn serve_client(stream: TcpStream, password: &[u8]) -> io::Result<()> {
    serve_lines(stream, |attempt, answers| {
        answers.extend_from_slice(super::answer(attempt, password))
    })
}
