//! # `calc`: an arithmetic expression server, four ways (SPEC calc/1-calc/5)
//!
//! A client sends expressions, one per line; the server answers each with its value, or
//! with a line starting with `error:`. The same answer ([`answer`], from the hand-written
//! parser of [`expression`]) is served by four programs that differ only in how they wait
//! for several clients, the lab's real subject:
//!
//! | program         | waits for clients by                 | module        |
//! |-----------------|--------------------------------------|---------------|
//! | `calc-single`   | serving one, then accepting the next | [`single`]    |
//! | `calc-threaded` | an OS thread per client              | [`threaded`]  |
//! | `calc-select`   | one thread, `poll(2)` on every socket| [`select`]    |
//! | `calc-fork`     | a process per client                 | [`fork`]      |
//!
//! and `calc-client` ([`client`]) sends stdin's lines and prints the answers.
//!
//! These use the operating system's blocking sockets (`std::net`) and, for `select` and
//! `fork`, the system calls themselves (`poll`, `fork`): the point is to see each model,
//! not to hide it behind an async runtime. So they run on real sockets only, not in the
//! harness's simulated network.

pub mod client;
pub mod expression;
pub mod fork;
pub mod lines;
#[cfg(test)]
mod properties;
pub mod select;
pub mod single;
pub mod threaded;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

use lines::{Line, Lines};

/// The reply to one line, end included; `None` for an empty line, which gets no reply
/// (SPEC calc/1).
pub fn answer(line: Line<'_>) -> Option<Vec<u8>> {
    let text = match line {
        Line::Text(text) if text.iter().all(|byte| byte.is_ascii_whitespace()) => return None,
        Line::Text(text) => expression::reply(text),
        Line::TooLong => format!("error: a line is at most {} bytes", lines::MAX_LINE),
    };
    let mut reply = text.into_bytes();
    reply.push(b'\n');
    Some(reply)
}

/// Serves one client on a blocking socket until it closes: the loop of `single`,
/// `threaded` and `fork`.
pub fn serve_client(stream: TcpStream) -> io::Result<()> {
    serve_lines(stream, |line, replies| {
        replies.extend(answer(line).unwrap_or_default())
    })
}

/// Answers each line of one client on a blocking socket until it closes: `reply` adds the
/// answer to a line (or nothing) to the bytes to send. The loop of every calc server but
/// `select`, and of `password-server`.
///
/// ```text
/// recv into the line buffer -> answer every complete line -> write_all -> recv again
///   ... until recv returns 0 (the client closed) or fails (it reset)
/// ```
pub fn serve_lines(
    mut stream: TcpStream,
    mut reply: impl FnMut(Line<'_>, &mut Vec<u8>),
) -> io::Result<()> {
    let mut lines = Lines::default();
    let mut replies = Vec::new();
    loop {
        // A recv returns what has arrived, from one byte to a buffer's worth.
        let count = match stream.read(lines.space()) {
            Ok(0) => return Ok(()),
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        lines.received(count, |line| reply(line, &mut replies));
        // `write_all` loops over `write`, which may send only part of the replies.
        stream.write_all(&replies)?;
        replies.clear();
    }
}

/// Binds the server's port on every IPv4 address, or says why not on stderr (SPEC
/// calc/5). `SO_REUSEADDR` (set by `std` on Unix) lets a restarted server bind while
/// the last run's connections are in TIME_WAIT.
pub fn bind(program: &str, port: u16) -> Result<TcpListener, std::process::ExitCode> {
    TcpListener::bind(("0.0.0.0", port)).map_err(|error| {
        eprintln!("{program}: cannot bind port {port}: {error}");
        std::process::ExitCode::FAILURE
    })
}

/// Reports a client that failed (reset, vanished) on stderr: the server goes on.
pub fn report_client(program: &str, peer: Option<std::net::SocketAddr>, error: io::Error) {
    match peer {
        Some(peer) => eprintln!("{program}: client {peer}: {error}"),
        None => eprintln!("{program}: a client: {error}"),
    }
}

/// The server's command line: `calc-<model> PORT`.
#[derive(clap::Parser)]
pub struct ServerArgs {
    /// TCP port to listen on.
    pub port: u16,
}
