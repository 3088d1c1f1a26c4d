//! The message server: accept a client, copy its bytes to stdout, repeat.

use std::future::Future;
use std::io;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::cli::{self, Stdio};
use crate::net::{Listener, Network};
use crate::{BUFFER_SIZE, STDIO_BUFFER_SIZE};

/// Sequential message server: prints on stdout exactly the bytes each client sends.
#[derive(Parser)]
#[command(name = "message-server")]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    port: u16,
}

/// `message-server PORT`: binds, then serves clients one after another, forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let listener = match net.bind_tcp(args.port).await {
        Ok(listener) => listener,
        // SPEC message/6: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind port {}", args.port);
            return cli::fail(&mut stdio.stderr, "message-server", context, error).await;
        }
    };
    let Stdio {
        mut stdout,
        mut stderr,
        ..
    } = stdio;
    let never = std::future::pending::<()>();
    match serve(listener, &mut stdout, &mut stderr, never).await {
        Ok(()) => 0,
        Err(error) => cli::fail(&mut stderr, "message-server", "cannot write stdout", error).await,
    }
}

/// How serving one client ended.
///
/// A client that misbehaves is an expected condition, not an error of the server: the
/// server reports it on stderr and goes on with the next client (SPEC `message/8`).
#[derive(Debug)]
pub enum ClientOutcome {
    /// The client closed its side normally after sending `bytes` bytes.
    Completed {
        /// The bytes received (and printed).
        bytes: u64,
    },
    /// The connection failed (reset, vanished) after `bytes` bytes had been printed.
    Broken {
        /// The bytes printed before.
        bytes: u64,
        /// What the connection said.
        error: io::Error,
    },
}

/// Serves clients one after another until `shutdown` completes.
///
/// `out` receives every client's bytes (stdout in the binary), `diagnostics` a line per
/// client that failed (stderr). An error writing `out` ends the server: if stdout is gone
/// there is nobody to print for. A failed `accept` (for example too many open files) is
/// reported and retried: it concerns one client only.
pub async fn serve<L, W, E>(
    listener: L,
    out: &mut W,
    diagnostics: &mut E,
    shutdown: impl Future,
) -> io::Result<()>
where
    L: Listener,
    W: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    tokio::pin!(shutdown);
    loop {
        // Wait for the next client. Clients that connect while we are busy with another
        // wait in the kernel's accept queue (the listen backlog): SPEC message/2.
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    report(diagnostics, format!("accept failed: {error}")).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        if let ClientOutcome::Broken { bytes, error } = serve_one(stream, out).await? {
            // Diagnostics go to stderr: stdout carries only the messages (message/1).
            let line = format!("client {peer} failed after {bytes} bytes: {error}");
            report(diagnostics, line).await;
        }
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("message-server: {line}")).await;
}

/// Copies one client's message to `out`, from the first byte to the client's close.
///
/// Returns `Err` only when writing `out` fails; everything that can go wrong on the
/// client's side is a [`ClientOutcome`].
pub async fn serve_one<S, W>(mut stream: S, out: &mut W) -> io::Result<ClientOutcome>
where
    S: tokio::io::AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // One fixed buffer for the socket, reused for every read: memory does not grow with
    // the message (SPEC message/3), so a 100 MB message costs the same 4 KiB as a 20 KB one.
    let mut buffer = [0u8; BUFFER_SIZE];
    // And one for stdout: what arrived is gathered here while more is already waiting in
    // the socket, and printed as soon as the socket has nothing more for now. A fast
    // client's bytes then cost one write to stdout per 64 KiB instead of one per 4 KiB,
    // and a slow client's still appear the moment they arrive.
    let mut printing: Vec<u8> = Vec::with_capacity(STDIO_BUFFER_SIZE);
    let mut bytes: u64 = 0;
    loop {
        // `read` returns as soon as *some* bytes have arrived: 1 byte, 4096 bytes, or
        // anything between, however the client sliced its sends (SPEC message/4). So we
        // loop until it returns 0, which means the client closed its side: end of message.
        let received = tokio::select! {
            // `biased`: try the socket first; only when it has nothing ready does the
            // second branch run (cancelling a read that has not started loses nothing).
            biased;
            read = stream.read(&mut buffer) => read,
            () = std::future::ready(()), if !printing.is_empty() => {
                print(out, &mut printing).await?;
                continue;
            }
        };
        let received = match received {
            Ok(0) => {
                print(out, &mut printing).await?;
                return Ok(ClientOutcome::Completed { bytes });
            }
            Ok(received) => received,
            // A reset or a vanished client: what it did send is printed; the server
            // survives and serves the next client (SPEC message/8).
            Err(error) => {
                print(out, &mut printing).await?;
                return Ok(ClientOutcome::Broken { bytes, error });
            }
        };
        // Bytes are kept raw: no decoding, so binary and non-UTF-8 messages survive
        // (message/9).
        printing.extend_from_slice(&buffer[..received]);
        bytes += received as u64;
        if printing.len() + BUFFER_SIZE > STDIO_BUFFER_SIZE {
            print(out, &mut printing).await?;
        }
    }
}

/// Writes what `printing` holds to `out` and flushes, so that it is out of the process
/// (nothing held back in memory), then empties it.
async fn print<W: AsyncWrite + Unpin>(out: &mut W, printing: &mut Vec<u8>) -> io::Result<()> {
    // `write_all` is itself a loop over `write`, which may also be short.
    out.write_all(printing).await?;
    out.flush().await?;
    printing.clear();
    Ok(())
}
