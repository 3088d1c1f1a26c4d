//! The uppercase TCP server: accept clients forever, each served by its own task.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::cli::{self, Stdio};
use crate::line::{MAX_LINE, read_line};
use crate::net::{Listener, Network};

/// Uppercase converter server (TCP): sends each client's line back with a-z made A-Z.
#[derive(Parser)]
#[command(name = "upper-tcp-server")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
}

/// How long the server keeps reading, after its reply, what the client sends beyond its
/// line, before it closes the connection (see [`serve_one`]).
pub const LINGER: Duration = Duration::from_secs(1);

/// `upper-tcp-server PORT`: binds, then serves clients concurrently, forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, "upper-tcp-server", context, error).await;
        }
    };
    // The server prints nothing on stdout: its output is the replies it sends.
    let never = std::future::pending::<()>();
    serve(net, listener, &mut stdio.stderr, never).await;
    0
}

/// How serving one client ended.
///
/// A client that misbehaves is an expected condition, not an error of the server: the
/// server reports it on stderr and goes on serving the others (SPEC `upper/2`).
#[derive(Debug)]
pub enum ClientOutcome {
    /// The client got its line back: `bytes` bytes, newline included if it had one.
    Completed {
        /// The bytes sent back.
        bytes: usize,
    },
    /// The connection failed (reset, vanished) before the reply was sent.
    Broken {
        /// What the connection said.
        error: io::Error,
    },
}

/// Accepts clients until `shutdown` completes, serving each in its own task.
///
/// `diagnostics` (stderr in the binary) receives a line per client that failed. A failed
/// `accept` (for example too many open files) is reported and retried: it concerns one
/// client only.
pub async fn serve<N, E>(net: N, listener: N::Listener, diagnostics: &mut E, shutdown: impl Future)
where
    N: Network,
    E: AsyncWrite + Unpin,
{
    // The tasks serving clients. Each returns how its client ended; this loop collects
    // the outcomes and reports them, so only this loop writes on stderr.
    let mut clients: JoinSet<(SocketAddr, ClientOutcome)> = JoinSet::new();
    tokio::pin!(shutdown);
    // Forever (SPEC upper/2): wait for whichever comes first, a new client or the end of
    // a client being served, and handle it.
    loop {
        tokio::select! {
            // In this order, not at random: finished clients are reaped before new ones
            // are taken, so the set of tasks cannot fill up with finished ones, and the
            // simulated world replays exactly (no random draw).
            biased;
            // `join_next` gives `None` while no client is being served; the pattern
            // then does not match and `select!` waits for the other branches only.
            Some(finished) = clients.join_next() => match finished {
                Ok((_, ClientOutcome::Completed { .. })) => {}
                Ok((peer, ClientOutcome::Broken { error })) => {
                    report(diagnostics, format!("client {peer} failed: {error}")).await;
                }
                // A task that panicked: a bug of this server, but it concerned one
                // client only, and the others are still served.
                Err(error) => report(diagnostics, format!("a client's task failed: {error}")).await,
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // A task per client: while one client is slow to send its line, the
                    // others are served (SPEC upper/2). `spawn` works on the real network
                    // and on a simulated host alike.
                    let net = net.clone();
                    clients.spawn(async move { (peer, serve_one(stream, net).await) });
                }
                Err(error) => report(diagnostics, format!("accept failed: {error}")).await,
            },
            _ = &mut shutdown => return,
        }
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("upper-tcp-server: {line}")).await;
}

/// Serves one client: reads its line, sends it back uppercased, and closes.
///
/// ```text
/// read until "\n", FIN, or 64 KiB  ->  uppercase a-z  ->  send all  ->  FIN
///   ->  discard what the client still sends, for at most LINGER  ->  close
/// ```
///
/// Everything that can go wrong is the client's doing, so it is a [`ClientOutcome`].
pub async fn serve_one<S, N>(mut stream: S, net: N) -> ClientOutcome
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    // One fixed buffer, the longest line we take (SPEC upper/3). On the heap: 64 KiB is a
    // lot for a task's stack, and it is allocated once per client, never grown.
    let mut line = vec![0u8; MAX_LINE];
    // SPEC upper/3: read until the newline or the client's half-close, however the bytes
    // were sliced; a line with no newline after 64 KiB is taken as it is.
    let length = match read_line(&mut stream, &mut line).await {
        Ok(length) => length,
        // A reset or a vanished client: nobody to reply to. The server goes on
        // (SPEC upper/2).
        Err(error) => return ClientOutcome::Broken { error },
    };
    // SPEC upper/1: bytes, not text. Only `a`-`z` change; `&*!`, digits and every byte
    // of a UTF-8 `é` or `ß` (all 0x80 or above) are left as they are.
    line[..length].make_ascii_uppercase();
    // `write_all` loops over `write`, which may accept only part of the reply.
    if let Err(error) = stream.write_all(&line[..length]).await {
        return ClientOutcome::Broken { error };
    }
    // FIN: the client reads the reply until the connection closes (SPEC upper/3), so this
    // is how it knows the reply is complete.
    if let Err(error) = stream.shutdown().await {
        return ClientOutcome::Broken { error };
    }
    linger(&mut stream, &mut line, net).await;
    ClientOutcome::Completed { bytes: length }
}

/// A "lingering close" (RFC 9112 §9.6 describes the same problem for HTTP): before closing,
/// read and discard what the client still sends, until it closes too or [`LINGER`] passes.
///
/// Why: closing a socket whose receive buffer still holds unread bytes (the rest of a
/// line longer than 64 KiB, or a second line) makes the kernel send a reset (RST) instead
/// of a FIN, and a reset can destroy the reply still in flight or waiting in the client's
/// buffer. Errors are ignored: the reply is already sent, and the connection ends anyway.
async fn linger<S, N>(stream: &mut S, scratch: &mut [u8], net: N)
where
    S: AsyncRead + Unpin,
    N: Network,
{
    let give_up = net.sleep(LINGER);
    tokio::pin!(give_up);
    // Until the client closes (read returns 0 or fails) or we stop waiting: a client that
    // keeps the connection open does not hold this task forever.
    loop {
        tokio::select! {
            // The deadline first: a client sending without pause cannot keep the read
            // branch always ready and this task busy forever.
            biased;
            () = &mut give_up => return,
            read = stream.read(scratch) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            },
        }
    }
}
