//! The blocking line server that `calc`, `password` and `echo-plus` share: bind a port,
//! cut what each client sends into lines ([`lines`]), answer line by line, serve each
//! client on a thread of its own ([`serve_each_on_a_thread`], also `dual-stack` and
//! `direct-chat`), and report a client that failed without stopping the server.
//!
//! These servers use the operating system's blocking sockets (`std::net`) on purpose:
//! their labs are about how a server waits for several clients (a thread each, `poll`, a
//! process each), which an async runtime would hide.

pub mod lines;

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use lines::{Line, Lines};

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

/// Each client thread's stack: the serving loops need little (their buffers are on the
/// heap), and hundreds of clients at 8 MiB of address space each would be gigabytes.
pub const STACK: usize = 256 * 1024;

/// Accepts clients forever, each served by `serve` on an operating-system thread of its
/// own: the model of `calc-threaded` (SPEC calc/4), which `password`, `echo-plus`,
/// `dual-stack` and `direct-chat` share.
///
/// The main thread only accepts; while one thread waits in `recv` for a client that is
/// slow to finish its line, the others run, so clients never wait for each other. A
/// client whose serving fails is reported on stderr; one that gets no thread (the
/// system's limit) is closed and reported; either way the others go on.
pub fn serve_each_on_a_thread<F>(program: &'static str, listener: TcpListener, serve: F) -> !
where
    F: Fn(TcpStream) -> io::Result<()> + Clone + Send + 'static,
{
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => {
                report_client(program, None, error);
                continue;
            }
        };
        let serve = serve.clone();
        let spawned = thread::Builder::new()
            .name(format!("client {peer}"))
            .stack_size(STACK)
            .spawn(move || {
                if let Err(error) = serve(stream) {
                    report_client(program, Some(peer), error);
                }
            });
        if let Err(error) = spawned {
            report_client(program, Some(peer), error);
        }
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
