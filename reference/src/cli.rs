//! What the task programs share: their standard streams, argument errors, how they fail,
//! and for the clients of a named server, `--server HOST:PORT` and connecting to it
//! ([`parse_server`], [`connect`]).
//!
//! SPEC conventions: stdout is data, stderr is diagnostics. Errors (cannot bind, cannot
//! connect) go to stderr with a non-zero exit status; bad arguments are reported as clap
//! reports them, with exit status 2.
//!
//! Every program is an `async fn(network, arguments, stdio) -> exit status`. The binary in
//! `src/bin/` runs it with the real network and the process's own streams ([`run`]); the
//! harness's simulated world runs the very same function on a simulated host, with
//! in-memory streams.

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::net::{Network, Tokio};

/// Exit status for a failure of the network (cannot bind, cannot connect, I/O error).
pub const EXIT_NETWORK_ERROR: i32 = 1;

/// Something a program reads from: its stdin.
pub type Input = Box<dyn AsyncRead + Unpin + Send>;
/// Something a program writes to: its stdout or stderr.
pub type Output = Box<dyn AsyncWrite + Unpin + Send>;

/// A program's three standard streams.
pub struct Stdio {
    /// What the program reads (file descriptor 0).
    pub stdin: Input,
    /// The program's data (file descriptor 1).
    pub stdout: Output,
    /// The program's diagnostics (file descriptor 2).
    pub stderr: Output,
}

impl Stdio {
    /// The process's own stdin, stdout and stderr; stdin and stdout as cheap to wait for
    /// as their kind allows ([`crate::process_stdio`] tells why). Called inside the runtime.
    pub fn process() -> Stdio {
        Stdio {
            stdin: crate::process_stdio::stdin(),
            stdout: crate::process_stdio::stdout(),
            stderr: Box::new(tokio::io::stderr()),
        }
    }
}

/// Prints `program: context: error` on `stderr` and returns the network-error exit status.
pub async fn fail(
    stderr: &mut Output,
    program: &str,
    context: impl Display,
    error: impl Display,
) -> i32 {
    diagnose(stderr, format!("{program}: {context}: {error}")).await;
    EXIT_NETWORK_ERROR
}

/// Writes one diagnostic line on `stderr`. A line that cannot be written is dropped: if
/// stderr is gone there is nobody left to tell, and that must not stop the program.
pub async fn diagnose<E: AsyncWrite + Unpin + ?Sized>(stderr: &mut E, line: String) {
    let _ = stderr.write_all(format!("{line}\n").as_bytes()).await;
    let _ = stderr.flush().await;
}

/// Parses `args` (program name first) with clap. On `--help` or a usage error, prints what
/// clap prints (help on stdout, errors on stderr) and returns the exit status to end with.
pub async fn parse_args<A: clap::Parser>(args: Vec<String>, stdio: &mut Stdio) -> Result<A, i32> {
    match A::try_parse_from(args) {
        Ok(parsed) => Ok(parsed),
        Err(error) => {
            let text = error.render().to_string();
            let stream = if error.use_stderr() {
                &mut stdio.stderr
            } else {
                &mut stdio.stdout
            };
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.flush().await;
            Err(error.exit_code())
        }
    }
}

/// Runs a program as a process: real network, real streams, command-line arguments, and
/// its return value as the exit status.
pub fn run<F, Fut>(program: F) -> ExitCode
where
    F: FnOnce(Tokio, Vec<String>, Stdio) -> Fut,
    Fut: Future<Output = i32>,
{
    let args: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let status = run_with_args(program, args);
    ExitCode::from(u8::try_from(status).unwrap_or(u8::MAX))
}

/// Runs a program with the real network and this process's streams on `args`, and returns
/// its exit status.
pub fn run_with_args<F, Fut>(program: F, args: Vec<String>) -> i32
where
    F: FnOnce(Tokio, Vec<String>, Stdio) -> Fut,
    Fut: Future<Output = i32>,
{
    let runtime = runtime();
    // Inside the runtime: a pipe on stdin or stdout registers with its epoll.
    let stdio = {
        let _inside = runtime.enter();
        Stdio::process()
    };
    runtime.block_on(program(Tokio, args, stdio))
}

/// A single-threaded tokio runtime: every lab program here serves one thing at a time or
/// multiplexes on one thread, and a small runtime keeps memory low and predictable. Sockets
/// and timers only: no program handles signals, and the signal driver's set-up would be
/// part of every start (the 20 KB bench is mostly start-up).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .expect("cannot start the tokio runtime")
}

/// The server of `--server HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// A DNS name or an IP address (without brackets): what is connected to, and the name
    /// the server's certificate must carry.
    pub host: String,
    /// Its TCP port.
    pub port: u16,
}

/// Parses `HOST:PORT`, `[IPv6]:PORT`.
///
/// | argument          | host          | port |
/// |-------------------|---------------|------|
/// | `localhost:2525`  | `localhost`   | 2525 |
/// | `[::1]:25`        | `::1`         | 25   |
/// | `mail.example`    | error: no port       |
pub fn parse_server(argument: &str) -> Result<Server, String> {
    let Some((host, port)) = argument.rsplit_once(':') else {
        return Err("expected HOST:PORT".into());
    };
    let port = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    // An IPv6 address holds colons: it is written in brackets (RFC 3986 §3.2.2).
    let host = match host.strip_prefix('[') {
        Some(inside) => inside
            .strip_suffix(']')
            .ok_or("an IPv6 address needs its closing bracket")?,
        None if host.contains(':') => {
            return Err("write an IPv6 address in brackets: [::1]:25".into());
        }
        None => host,
    };
    if host.is_empty() {
        return Err("expected HOST:PORT".into());
    }
    Ok(Server {
        host: host.to_owned(),
        port,
    })
}

/// How long the client waits for the server to accept its connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the server, giving up after [`CONNECT_TIMEOUT`].
pub async fn connect<N: Network>(net: &N, server: &Server) -> io::Result<N::Stream> {
    tokio::select! {
        biased;
        () = net.sleep(CONNECT_TIMEOUT) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
        )),
        connected = net.connect_tcp(&server.host, server.port) => connected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_argument_is_host_colon_port() {
        let table = [
            ("localhost:2525", Ok(("localhost", 2525))),
            ("127.0.0.1:25", Ok(("127.0.0.1", 25))),
            ("[::1]:587", Ok(("::1", 587))),
            ("mail.example", Err(())),
            ("mail.example:smtp", Err(())),
            (":25", Err(())),
            ("::1:25", Err(())),
            ("[::1:25", Err(())),
            ("host:70000", Err(())),
        ];
        for (argument, expected) in table {
            let parsed = parse_server(argument)
                .map(|server| (server.host, server.port))
                .map_err(drop);
            let expected = expected.map(|(host, port)| (host.to_owned(), port));
            assert_eq!(parsed, expected, "{argument}");
        }
    }
}
