//! `password-server PORT --password SECRET`: answers each line with `access granted` or
//! `access denied`, a thread per client (the loop of `calc-threaded`, see
//! [`crate::calc::threaded`]).

use std::io;
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use clap::Parser;

use crate::line_server::{bind, report_client, serve_lines};

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

pub fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    let password: Arc<[u8]> = args.password.into_bytes().into();
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                report_client(PROGRAM, None, error);
                continue;
            }
        };
        let password = Arc::clone(&password);
        let spawned = thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                if let Err(error) = serve_client(stream, &password) {
                    report_client(PROGRAM, Some(peer), error);
                }
            });
        if let Err(error) = spawned {
            report_client(PROGRAM, Some(peer), error);
        }
    }
}

/// Answers every attempt of one client until it closes, in a fixed 4 KiB line buffer: an
/// attempt longer than it is denied, not stored (pass/2).
fn serve_client(stream: TcpStream, password: &[u8]) -> io::Result<()> {
    serve_lines(stream, |attempt, answers| {
        answers.extend_from_slice(super::answer(attempt, password))
    })
}
