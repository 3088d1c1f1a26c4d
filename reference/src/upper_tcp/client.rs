//! The uppercase TCP client: send one line of stdin, print the reply.

use std::io;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::line::{MAX_LINE, read_line};
use crate::net::Network;

/// Uppercase converter client (TCP): sends one line of stdin, prints the server's reply.
#[derive(Parser)]
#[command(name = "upper-tcp-client")]
struct Args {
    /// Server host name or address (IPv4 or IPv6).
    host: String,
    /// Server TCP port.
    port: u16,
}

/// `upper-tcp-client HOST PORT < LINE`: connects, sends the line, prints the reply, exits 0.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    // Connect first, as the handout's skeleton does: without a server there is no point
    // in asking for a line, and the error comes at once.
    let stream = match net.connect_tcp(&args.host, args.port).await {
        Ok(stream) => stream,
        // SPEC conventions: cannot connect -> stderr, non-zero exit.
        Err(error) => {
            let context = format!("cannot connect to {}:{}", args.host, args.port);
            return cli::fail(&mut stdio.stderr, "upper-tcp-client", context, error).await;
        }
    };
    // The one line to send: up to and including the first newline, or all of stdin if it
    // has none, and at most 64 KiB (SPEC upper/3).
    let mut line = vec![0u8; MAX_LINE];
    let length = match read_line(&mut stdio.stdin, &mut line).await {
        Ok(length) => length,
        Err(error) => {
            return cli::fail(
                &mut stdio.stderr,
                "upper-tcp-client",
                "cannot read stdin",
                error,
            )
            .await;
        }
    };
    match exchange_line(&line[..length], stream, &mut stdio.stdout).await {
        Ok(_) => 0,
        Err(error) => {
            let context = format!("exchange with {}:{} failed", args.host, args.port);
            cli::fail(&mut stdio.stderr, "upper-tcp-client", context, error).await
        }
    }
}

/// Sends `line` on `stream`, half-closes, and copies the reply to `out` until the server
/// closes. Returns the size of the reply.
///
/// The line is sent as it is, newline included if it has one (SPEC `upper/3`). The reply
/// is copied byte for byte, with no label and no added newline (`upper/6`).
pub async fn exchange_line<S, W>(line: &[u8], mut stream: S, out: &mut W) -> io::Result<u64>
where
    S: AsyncRead + AsyncWrite + Unpin,
    W: AsyncWrite + Unpin + ?Sized,
{
    // `write_all` loops over `write`, which may accept only part of the line.
    stream.write_all(line).await?;
    // Half-close: FIN tells the server the line is complete even when it has no newline
    // (stdin ended without one), so a server reading to the end of input also answers.
    // Our receiving side stays open for the reply.
    stream.shutdown().await?;
    let mut buffer = [0u8; BUFFER_SIZE];
    let mut total: u64 = 0;
    // The reply arrives in pieces of any size (SPEC message/4 holds for every stream);
    // the server closes when it has sent it all, so read until `read` returns 0.
    loop {
        let received = stream.read(&mut buffer).await?;
        if received == 0 {
            break;
        }
        out.write_all(&buffer[..received]).await?;
        total += received as u64;
    }
    out.flush().await?;
    Ok(total)
}
