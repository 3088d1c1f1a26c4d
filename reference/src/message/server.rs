//! The message server: accept a client, copy its bytes to stdout, repeat.

use std::future::Future;
use std::io;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::{Listener, Network};

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
    Completed { bytes: u64 },
    /// The connection failed (reset, vanished) after `bytes` bytes had been printed.
    Broken { bytes: u64, error: io::Error },
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
    // One fixed buffer, reused for every read: memory does not grow with the message
    // (SPEC message/3), so a 100 MB message costs the same 4 KiB as a 20 KB one.
    let mut buffer = [0u8; BUFFER_SIZE];
    let mut bytes: u64 = 0;
    loop {
        // `read` returns as soon as *some* bytes have arrived: 1 byte, 4096 bytes, or
        // anything between, however the client sliced its sends (SPEC message/4). So we
        // loop until it returns 0, which means the client closed its side: end of message.
        let received = match stream.read(&mut buffer).await {
            Ok(0) => return Ok(ClientOutcome::Completed { bytes }),
            Ok(received) => received,
            // A reset or a vanished client: what it did send is already printed; the
            // server survives and serves the next client (SPEC message/8).
            Err(error) => return Ok(ClientOutcome::Broken { bytes, error }),
        };
        // `write_all` is itself a loop over `write`, which may also be short. Bytes are
        // written raw: no decoding, so binary and non-UTF-8 messages survive (message/9).
        out.write_all(&buffer[..received]).await?;
        // Flush now, not at the end: the message appears as it arrives, and nothing is
        // held back in memory.
        out.flush().await?;
        bytes += received as u64;
    }
}
