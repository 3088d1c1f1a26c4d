//! The uppercase UDP client: send the first line of stdin as one datagram, print the reply.

use std::time::Duration;

use clap::Parser;
use tokio::io::AsyncWriteExt;

use crate::DATAGRAM_BUFFER_SIZE;
use crate::cli::{self, EXIT_NETWORK_ERROR, Stdio};
use crate::line::{MAX_LINE, read_line};
use crate::net::{DatagramSocket, Network};

/// Uppercase converter client (UDP): sends the first line of stdin, prints the reply.
#[derive(Parser)]
#[command(name = "upper-udp-client")]
struct Args {
    /// Server host name or address.
    host: String,
    /// Server UDP port.
    port: u16,
}

/// How long the client waits for the reply (SPEC `upper/5`): a datagram lost on the way
/// there or back is never resent, so without a limit the client would wait forever.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(1);

/// `upper-udp-client HOST PORT < LINE`: sends the line, prints the reply, exits 0; exits
/// 1 when no reply comes within [`REPLY_TIMEOUT`].
pub async fn client_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let program = "upper-udp-client";
    let server = match net.resolve(&args.host, args.port).await {
        Ok(server) => server,
        Err(error) => {
            let context = format!("cannot resolve {}", args.host);
            return cli::fail(&mut stdio.stderr, program, context, error).await;
        }
    };
    // Port 0: the kernel picks a free port; the server learns it from our datagram.
    let socket = match net.bind_udp(0).await {
        Ok(socket) => socket,
        Err(error) => return cli::fail(&mut stdio.stderr, program, "cannot bind", error).await,
    };
    // SPEC upper/4: the first line of stdin, without its line ending.
    let mut line = vec![0u8; MAX_LINE];
    let length = match read_line(&mut stdio.stdin, &mut line).await {
        Ok(length) => length,
        Err(error) => {
            return cli::fail(&mut stdio.stderr, program, "cannot read stdin", error).await;
        }
    };
    let line = &line[..length];
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))
        .unwrap_or(line);
    // One datagram: it arrives whole or not at all (SPEC upper/4). A line longer than a
    // datagram can carry (65507 bytes) fails here, with the system's "message too long".
    if let Err(error) = socket.send_to(line, server).await {
        let context = format!("cannot send to {server}");
        return cli::fail(&mut stdio.stderr, program, context, error).await;
    }

    let mut reply = vec![0u8; DATAGRAM_BUFFER_SIZE];
    // The limit counts from the send, on the network's clock (in the simulated world a
    // second passes without anyone waiting for it).
    let give_up = net.sleep(REPLY_TIMEOUT);
    tokio::pin!(give_up);
    // Until the server's reply, or the timeout: other datagrams may arrive meanwhile.
    let size = loop {
        let (size, sender) = tokio::select! {
            // The deadline first: a stream of stray datagrams cannot keep the receive
            // branch always ready, and the simulated world replays exactly (no random
            // choice between ready branches).
            biased;
            () = &mut give_up => {
                // SPEC upper/5: never hang; say so on stderr, exit non-zero.
                let line = format!(
                    "{program}: no reply from {}:{} within {} s",
                    args.host,
                    args.port,
                    REPLY_TIMEOUT.as_secs()
                );
                cli::diagnose(&mut stdio.stderr, line).await;
                return EXIT_NETWORK_ERROR;
            }
            received = socket.recv_from(&mut reply) => match received {
                Ok(received) => received,
                Err(error) => {
                    return cli::fail(&mut stdio.stderr, program, "receive failed", error).await;
                }
            },
        };
        // Anyone can send to our port. Only the server's datagram is the reply.
        if sender == server {
            break size;
        }
    };

    // SPEC upper/6: the reply, and only the reply, on stdout, as one line.
    let printed = async {
        stdio.stdout.write_all(&reply[..size]).await?;
        stdio.stdout.write_all(b"\n").await?;
        stdio.stdout.flush().await
    };
    match printed.await {
        Ok(()) => 0,
        Err(error) => cli::fail(&mut stdio.stderr, program, "cannot write stdout", error).await,
    }
}
