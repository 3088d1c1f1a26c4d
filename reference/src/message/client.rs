//! The message client: stream stdin to the server, then close.

use std::io;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::cli::{self, Stdio};
use crate::net::{Cork, Network};
use crate::{BUFFER_SIZE, STDIO_BUFFER_SIZE};

/// Message client: sends everything read from stdin to the server, then closes.
#[derive(Parser)]
#[command(name = "message-client")]
struct Args {
    /// Server host name or address (IPv4 or IPv6).
    host: String,
    /// Server TCP port.
    port: u16,
}

/// `message-client HOST PORT < FILE`: connects, sends stdin, closes, exits 0.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let stream = match net.connect_tcp(&args.host, args.port).await {
        Ok(stream) => stream,
        // SPEC message/7: no server -> stderr, non-zero exit.
        Err(error) => {
            let context = format!("cannot connect to {}:{}", args.host, args.port);
            return cli::fail(&mut stdio.stderr, "message-client", context, error).await;
        }
    };
    match send_message(stdio.stdin, stream).await {
        Ok(_) => 0,
        Err(error) => cli::fail(&mut stdio.stderr, "message-client", "sending failed", error).await,
    }
}

/// Sends everything `input` yields on `stream`, then closes the sending side.
///
/// Returns the number of bytes sent. Reads the input to its end (SPEC message/5) into one
/// fixed buffer (message/3) and sends it in pieces of at most 4096 bytes, whatever its size.
pub async fn send_message<R, S>(mut input: R, mut stream: S) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    S: AsyncWrite + Cork + Unpin,
{
    // stdin is read in larger gulps than the socket is written: a read of stdin is a
    // system call like a send, and the handout's 4096 bytes are about the socket. (The
    // buffer is fixed too: 64 KiB whatever the message's size.)
    let mut buffer = vec![0u8; STDIO_BUFFER_SIZE];
    let mut total: u64 = 0;
    loop {
        // A read from stdin, like a read from a socket, may return fewer bytes than the
        // buffer holds (a pipe delivers what has been written so far). 0 means end of input.
        let filled = input.read(&mut buffer).await?;
        if filled == 0 {
            break;
        }
        let gulp = &buffer[..filled];
        // Several pieces: corked while they go out, so that they leave as a few full
        // packets instead of one packet per send (`net::Cork` tells why), and uncorked
        // before the next read of stdin, which may wait. Corking is only a hint: where the
        // kernel refuses it, the pieces leave one packet each, as they would anyway.
        let corked = gulp.len() > BUFFER_SIZE && stream.set_cork(true).is_ok();
        for piece in gulp.chunks(BUFFER_SIZE) {
            send_all(&mut stream, piece).await?;
        }
        if corked {
            let _ = stream.set_cork(false);
        }
        total += filled as u64;
    }
    // Half-close: send FIN so the server's `recv` returns 0 and it knows the message is
    // complete. Without it the server would wait forever for more bytes.
    stream.shutdown().await?;
    Ok(total)
}

/// Sends every byte of `piece`. `write` may accept only part of it when the socket's send
/// buffer is nearly full (SPEC message/4): loop, writing the rest from where it stopped.
async fn send_all<S: AsyncWrite + Unpin>(stream: &mut S, piece: &[u8]) -> io::Result<()> {
    let mut sent = 0;
    while sent < piece.len() {
        let accepted = stream.write(&piece[sent..]).await?;
        if accepted == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the connection accepts no more bytes",
            ));
        }
        sent += accepted;
    }
    Ok(())
}
