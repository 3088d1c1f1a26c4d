//! # `port-forward`: a local port forwarder
//!
//! Its contract: `scenarios/SPEC.md#port-forward`, clauses `fwd/1`–`fwd/2`.
//!
//! `port-forward PORT HOST PORT2` listens on PORT; every connection it accepts gets a
//! connection of its own to HOST:PORT2, and the bytes go both ways until both sides are
//! done:
//!
//! ```text
//!   client ──► [accepted]  forwarder  [connected] ──► remote
//!          ◄──                                    ◄──
//!   one pump per direction: read up to 4 KiB, write all of it, again
//! ```
//!
//! What the handout's version gets wrong, and this one does not:
//! - **half-close is passed on, not turned into a close**: when the client shuts down its
//!   writing side, `read` returns 0 on that direction only; the forwarder shuts down
//!   writing towards the remote (`shutdown`), and keeps pumping the other direction, so
//!   the remote can still answer (an HTTP/1.0 client, `nc -N`, a file upload: fwd/1);
//! - **every connection is served at once** (a task each), so a slow or idle client never
//!   holds the others back (fwd/2);
//! - **remote down**: the client's connection is closed at once, and reported on stderr,
//!   instead of leaving the client waiting;
//! - a **reset** on either side ends both (`try_join!` stops at the first error, and
//!   dropping the streams closes them).

use std::io;
use std::net::SocketAddr;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;

use crate::cli::{self, Stdio};
use crate::net::{Listener, Network};

const PROGRAM: &str = "port-forward";

/// Local port forwarder: relays every connection to PORT to HOST:PORT2.
#[derive(Parser)]
#[command(name = "port-forward")]
struct Args {
    /// TCP port to listen on.
    port: u16,
    /// The remote host connections are forwarded to.
    host: String,
    /// The remote port.
    remote_port: u16,
}

/// `port-forward PORT HOST PORT2`: binds, then forwards every connection, forever.
pub async fn forwarder_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, PROGRAM, context, error).await;
        }
    };
    // Each connection's task returns how it ended; only this loop writes on stderr.
    let mut connections: JoinSet<(SocketAddr, io::Result<()>)> = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            Some(finished) = connections.join_next() => match finished {
                Ok((_, Ok(()))) => {}
                Ok((peer, Err(error))) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: {peer}: {error}")).await;
                }
                Err(error) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: a task failed: {error}")).await;
                }
            },
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let net = net.clone();
                    let (host, port) = (args.host.clone(), args.remote_port);
                    connections.spawn(async move { (peer, forward(client, &net, &host, port).await) });
                }
                Err(error) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: accept failed: {error}")).await;
                }
            },
        }
    }
}

/// Forwards one accepted connection to `host:port` until both directions are done.
async fn forward<N: Network, S>(client: S, net: &N, host: &str, port: u16) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let remote = match net.connect_tcp(host, port).await {
        Ok(remote) => remote,
        // Returning drops `client`: its connection closes, so it does not wait forever.
        Err(error) => {
            return Err(io::Error::new(
                error.kind(),
                format!("cannot reach {host}:{port}: {error}"),
            ));
        }
    };
    let (client_reads, client_writes) = tokio::io::split(client);
    let (remote_reads, remote_writes) = tokio::io::split(remote);
    // Both directions at once: a client that is still sending does not stop the remote's
    // answer from coming back, and the other way round.
    tokio::try_join!(
        pump(client_reads, remote_writes),
        pump(remote_reads, client_writes)
    )?;
    Ok(())
}

/// Copies one direction until its end, then passes the end on.
///
/// ```text
/// read (1 byte .. 4 KiB)  ->  write_all  ->  read again ...
/// read returns 0 (the sender shut down writing)  ->  shutdown our writing side
/// ```
async fn pump<R, W>(mut from: R, mut to: W) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    let mut moved = 0u64;
    loop {
        let count = from.read(&mut buffer).await?;
        if count == 0 {
            // Half-close, passed on: the other side sees the end of this direction and
            // may still send in the other one.
            to.shutdown().await?;
            return Ok(moved);
        }
        // `write_all` loops over `write`, which may take only part of the buffer.
        to.write_all(&buffer[..count]).await?;
        moved += count as u64;
    }
}
