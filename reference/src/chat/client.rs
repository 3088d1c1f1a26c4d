//! `chat-client HOST PORT NAME`: joins the room as NAME, says every line of stdin, prints
//! every line of the room on stdout, and leaves at the end of stdin (SPEC chat/1).
//!
//! Two directions at once, each a plain copy loop: the user may type while the room
//! talks, so neither may wait for the other.
//!
//! ```text
//!   stdin  ──read up to 4 KiB──► write_all ──► socket      (the end: shutdown writing)
//!   socket ──read up to 4 KiB──► write_all ──► stdout      (flushed: a room line now)
//! ```

use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::cli::{self, Stdio};
use crate::net::Network;

/// After the end of stdin, how long the client still prints what the room sends while
/// the server sees it leave: it then exits whatever the server does.
const LEAVING: Duration = Duration::from_secs(1);

/// Chat client: sends the lines of stdin, prints the lines it receives.
#[derive(Parser)]
struct Args {
    /// The server's host name or address.
    host: String,
    /// The server's TCP port.
    port: u16,
    /// The name to join as (the direct-chat client's USER).
    name: String,
}

/// `chat-client HOST PORT NAME`: exit 0 when stdin ended, 1 if the server went first or
/// could not be reached.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, stdio: Stdio) -> i32 {
    talk("chat-client", net, args, stdio).await
}

/// The client's loop, for `program` (the direct-chat client is this loop too): the name,
/// then stdin to the server and the server to stdout.
pub async fn talk<N: Network>(
    program: &'static str,
    net: N,
    args: Vec<String>,
    mut stdio: Stdio,
) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let stream = match net.connect_tcp(&args.host, args.port).await {
        Ok(stream) => stream,
        Err(error) => {
            let context = format!("cannot connect to {}:{}", args.host, args.port);
            return cli::fail(&mut stdio.stderr, program, context, error).await;
        }
    };
    let (mut from_room, mut to_room) = tokio::io::split(stream);
    if let Err(error) = to_room
        .write_all(format!("{}\n", args.name).as_bytes())
        .await
    {
        return cli::fail(&mut stdio.stderr, program, "cannot join", error).await;
    }
    let Stdio {
        stdin,
        mut stdout,
        mut stderr,
    } = stdio;
    let saying = copy_then_shutdown(stdin, &mut to_room);
    let listening = copy_flushed(&mut from_room, &mut stdout);
    tokio::pin!(saying, listening);
    tokio::select! {
        said = &mut saying => {
            if let Err(error) = said {
                return cli::fail(&mut stderr, program, "cannot send", error).await;
            }
            // Leaving: the room's last lines, until the server closes or a moment passed.
            tokio::select! {
                _ = &mut listening => {}
                () = net.sleep(LEAVING) => {}
            }
            0
        }
        listened = &mut listening => {
            let reason = match listened {
                Ok(()) => "the server closed the connection".to_owned(),
                Err(error) => format!("the connection failed: {error}"),
            };
            cli::diagnose(&mut stderr, format!("{program}: {reason}")).await;
            cli::EXIT_NETWORK_ERROR
        }
    }
}

/// Copies `from` to `to` until the end of `from`, then shuts `to` down for writing (the
/// server then sees this member leave).
async fn copy_then_shutdown<R, W>(mut from: R, to: &mut W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    loop {
        let count = from.read(&mut buffer).await?;
        if count == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buffer[..count]).await?;
    }
}

/// Copies `from` to `to` until the end of `from`, flushing after every read: a room line
/// shows up when it arrives, not when a buffer fills.
async fn copy_flushed<R, W>(from: &mut R, to: &mut W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buffer = [0u8; crate::BUFFER_SIZE];
    loop {
        let count = from.read(&mut buffer).await?;
        if count == 0 {
            return Ok(());
        }
        to.write_all(&buffer[..count]).await?;
        to.flush().await?;
    }
}
