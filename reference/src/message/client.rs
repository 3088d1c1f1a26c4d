//! The message client: stream stdin to the server, then close.

use std::io;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::Network;

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
/// Returns the number of bytes sent. Reads the input to its end (SPEC message/5) in fixed
/// 4096-byte pieces, whatever its size (message/3).
pub async fn send_message<R, S>(mut input: R, mut stream: S) -> io::Result<u64>
where
    R: AsyncRead + Unpin,
    S: AsyncWrite + Unpin,
{
    let mut buffer = [0u8; BUFFER_SIZE];
    let mut total: u64 = 0;
    loop {
        // A read from stdin, like a read from a socket, may return fewer bytes than the
        // buffer holds (a pipe delivers what has been written so far). 0 means end of input.
        let filled = input.read(&mut buffer).await?;
        if filled == 0 {
            break;
        }
        // `write` may accept only part of the buffer when the socket's send buffer is
        // nearly full (SPEC message/4). Loop until every byte of this piece is handed to
        // the kernel; writing the rest again from where it stopped.
        let mut sent = 0;
        while sent < filled {
            let accepted = stream.write(&buffer[sent..filled]).await?;
            if accepted == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the connection accepts no more bytes",
                ));
            }
            sent += accepted;
        }
        total += filled as u64;
    }
    // Half-close: send FIN so the server's `recv` returns 0 and it knows the message is
    // complete. Without it the server would wait forever for more bytes.
    stream.shutdown().await?;
    Ok(total)
}
