//! The uppercase UDP server: answer every datagram, forever.

use std::io;

use clap::Parser;
use tokio::io::AsyncWrite;

use crate::DATAGRAM_BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::{DatagramSocket, Network};

/// Uppercase converter server (UDP): answers each datagram with a-z made A-Z.
#[derive(Parser)]
#[command(name = "upper-udp-server")]
struct Args {
    /// UDP port to receive on (0 picks a free one).
    port: u16,
}

/// `upper-udp-server PORT`: binds, then answers datagrams forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let socket = match net.bind_udp(args.port).await {
        Ok(socket) => socket,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind UDP port {}", args.port);
            return cli::fail(&mut stdio.stderr, "upper-udp-server", context, error).await;
        }
    };
    // Only ends if the socket itself breaks.
    let error = serve(&socket, &mut stdio.stderr).await;
    cli::fail(
        &mut stdio.stderr,
        "upper-udp-server",
        "the socket failed",
        error,
    )
    .await
}

/// Answers every datagram `socket` receives with its uppercase version, sent back to its
/// sender. Returns only if receiving fails: the socket itself is broken.
///
/// `diagnostics` (stderr) receives a line per reply that could not be sent; the server
/// then goes on with the next datagram (SPEC `upper/2`).
pub async fn serve<D, E>(socket: &D, diagnostics: &mut E) -> io::Error
where
    D: DatagramSocket,
    E: AsyncWrite + Unpin,
{
    // Allocated once, reused for every datagram; big enough for any datagram, so none is
    // cut (SPEC upper/4, see `DATAGRAM_BUFFER_SIZE`). On the heap: 64 KiB is a lot for a
    // stack.
    let mut buffer = vec![0u8; DATAGRAM_BUFFER_SIZE];
    // Forever (SPEC upper/2): every client is just the sender of the next datagram.
    loop {
        // One call, one whole datagram: no loop gathers pieces as on a stream.
        let (size, sender) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            // On Linux an unconnected UDP socket reports no error about past datagrams
            // (Windows would report an earlier reply's ICMP "port unreachable" here, and a
            // server for Windows must carry on): a failing receive is a broken socket.
            Err(error) => return error,
        };
        let reply = &mut buffer[..size];
        // SPEC upper/1: bytes, not text. Only `a`-`z` change; every other byte, including
        // each byte of a UTF-8 `é` (0x80 or above), stays as it is.
        reply.make_ascii_uppercase();
        // Back to the sender's address and port, as `recvfrom` reported them. One
        // datagram: `send_to` sends all of it or fails, it is never short.
        if let Err(error) = socket.send_to(reply, sender).await {
            report(diagnostics, format!("cannot reply to {sender}: {error}")).await;
        }
    }
}

/// Writes one line on the diagnostics stream, named after the program.
async fn report<E: AsyncWrite + Unpin>(diagnostics: &mut E, line: String) {
    cli::diagnose(diagnostics, format!("upper-udp-server: {line}")).await;
}
