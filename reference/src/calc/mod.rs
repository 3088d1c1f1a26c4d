//! # `calc`: an arithmetic expression server, four ways
//!
//! Its contract: `scenarios/SPEC.md#calc`, clauses `calc/1`–`calc/5`.
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
#[cfg(test)]
mod properties;
pub mod select;
pub mod single;
pub mod threaded;

use std::io;
use std::net::TcpStream;

use crate::line_server::lines::{self, Line};
use crate::line_server::serve_lines;

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

/// The server's command line: `calc-<model> PORT`.
#[derive(clap::Parser)]
pub struct ServerArgs {
    /// TCP port to listen on.
    pub port: u16,
}
