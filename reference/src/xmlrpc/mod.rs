//! # `xmlrpc-server`: a multi-threaded XML-RPC server with multicall and HTTP Basic
//! authentication (handout 000, items [29] and [30])
//!
//! Its contract: `scenarios/SPEC.md#xmlrpc`, clauses `rpc/1`–`rpc/4`.
//!
//! ```text
//! xmlrpc-server PORT [--auth USER:PASS]
//! ```
//!
//! ## Reading list
//!
//! - The XML-RPC specification, <http://xmlrpc.com/spec.md> (1999): a call is an HTTP
//!   `POST` whose body is a `<methodCall>`; the answer is `200 OK` with a
//!   `<methodResponse>` holding one value or a `<fault>` (even for an unknown method: HTTP
//!   errors are for HTTP's problems, faults for the call's).
//! - The multicall convention, "system.multicall — RFC: XML-RPC Multicall" (Eric Kidd,
//!   2001), which Python's `SimpleXMLRPCServer.register_multicall_functions` implements:
//!   many calls in one request, each answered in its place.
//! - RFC 7617, HTTP Basic authentication: `Authorization: Basic base64(user:pass)`, and
//!   a `401` carrying `WWW-Authenticate: Basic realm="..."` when it is missing or wrong.
//!
//! ## Layout
//!
//! - [`value`]: the XML-RPC values, read from an XML tree (`roxmltree`) and written.
//! - [`message`]: calls and responses, read and written (the harness's XML-RPC pack uses
//!   the same code as a client).
//! - [`methods`]: `add`, `multiply`, `pow`, `sleep`, `system.listMethods`,
//!   `system.multicall`.
//! - [`http`]: one connection: the request head, the refusals, the body, the answer.
//! - here: the command line and the accept loop, a thread per connection.
//!
//! ## The wire
//!
//! ```text
//! client A: POST /RPC2 (sleep 2) ──────────►  thread A: sleeps 2 s ─────────► 200 [2]
//! client B: POST /RPC2 (add 2 3) ──►  thread B: 200 [5]                         (B does not wait for A)
//! client C: POST /RPC2, no Authorization ──► thread C: 401 + WWW-Authenticate: Basic (nothing ran)
//! client D: POST /RPC2 (system.multicall [add 1 2, nope, pow 2 3])
//!             ──► thread D: 200 [[3], {faultCode: -32601, faultString: ...}, [8]]
//! ```
//!
//! ## What a first server usually gets wrong
//!
//! - **One client at a time.** Python's `SimpleXMLRPCServer` serves one request after the
//!   other: while one client's request is half sent (or its `sleep` runs), everyone else
//!   waits. The handout asks for a multi-threaded server: `ThreadingMixIn` (Python 3.7+
//!   has `socketserver.ThreadingMixIn` with `SimpleXMLRPCServer`), or here, a thread per
//!   connection (SPEC rpc/2).
//! - **Multicall not registered**, or written by hand so that the first failing call ends
//!   the whole request (SPEC rpc/1: each failure in its place, the rest still run).
//! - **Credentials checked after the method ran**, in the method or after dispatch: the
//!   refused `sleep(3)` still sleeps, a refused call still has its effect. Here the head is
//!   checked before the body is even read (SPEC rpc/3), and the `401` carries the
//!   `WWW-Authenticate` header without which clients never send credentials.
//! - **Integers beyond 32 bits.** `pow(2, 40)` in Python is a fine integer, but XML-RPC's
//!   `<int>` has 32 bits; answer a fault or a double (SPEC rpc/1).
//! - **A body read whole, whatever its size**: `rfile.read(int(content_length))` with a
//!   1 GB `Content-Length` is a gigabyte of memory. Over 1 MiB is refused here before a
//!   byte of it is read (SPEC rpc/4).

pub mod http;
pub mod message;
pub mod methods;
#[cfg(test)]
mod properties;
pub mod value;

use std::process::ExitCode;

use clap::Parser;

use crate::line_server::{bind, serve_each_on_a_thread};

const PROGRAM: &str = "xmlrpc-server";

/// The command line: `xmlrpc-server PORT [--auth USER:PASS]`.
#[derive(Parser)]
#[command(name = PROGRAM, about = "A multi-threaded XML-RPC server (add, multiply, pow, sleep, system.multicall)")]
pub struct Args {
    /// The TCP port to listen on (every IPv4 address).
    pub port: u16,
    /// Require HTTP Basic credentials `USER:PASS` on every request.
    #[arg(long, value_name = "USER:PASS", value_parser = parse_auth)]
    pub auth: Option<String>,
}

fn parse_auth(text: &str) -> Result<String, String> {
    match text.split_once(':') {
        Some((user, _)) if !user.is_empty() => Ok(text.to_owned()),
        _ => Err("expected USER:PASS (a user name, a colon, a password)".into()),
    }
}

/// Runs `xmlrpc-server` with the process's arguments: serves until killed, and returns only if it
/// cannot listen.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    // The accept loop and the thread per connection: `line_server::serve_each_on_a_thread`
    // (the main thread only accepts; each connection's thread reads, runs and answers its
    // request, so a slow client or a `sleep` holds its own thread only: SPEC rpc/2).
    // The credentials are shared by every thread, read-only: no lock needed.
    let auth: Option<std::sync::Arc<str>> = args.auth.map(Into::into);
    serve_each_on_a_thread(PROGRAM, listener, move |stream| {
        http::serve_connection(stream, auth.as_deref())
    })
}
