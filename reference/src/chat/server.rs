//! `chat-server PORT`: the room's server. A reader task and a writer task per member (see
//! the module [`crate::chat`] for why), one accept loop, and one place that writes on
//! stderr.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use clap::Parser;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::OUTBOX_LINES;
use super::STALL;
use super::room::{Late, Outbox, Room};
use crate::cli::{self, Stdio};
use crate::line_server::lines::{Line, Lines};
use crate::net::{Listener, Network};

const PROGRAM: &str = "chat-server";

/// Chat room server: every line of a member reaches every other member.
#[derive(Parser)]
#[command(name = "chat-server")]
struct Args {
    /// TCP port to listen on.
    port: u16,
    /// How long a member may stop reading, while others talk, before it is dropped.
    #[arg(long, default_value_t = STALL.as_millis() as u64)]
    stall_ms: u64,
}

/// What the members' tasks tell the accept loop, which alone writes on stderr.
enum Event {
    /// The room dropped this member: it stopped reading.
    Dropped(String),
}

/// `chat-server PORT`: binds, then keeps the room, forever.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
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
    let room = Arc::new(Mutex::new(Room::default()));
    let stall = std::time::Duration::from_millis(args.stall_ms.max(1));
    let (events, mut reported) = mpsc::unbounded_channel();
    let mut members: JoinSet<(SocketAddr, io::Result<()>)> = JoinSet::new();
    loop {
        tokio::select! {
            Some(finished) = members.join_next() => match finished {
                Ok((_, Ok(()))) => {}
                Ok((peer, Err(error))) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: {peer}: {error}")).await;
                }
                Err(error) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: a task failed: {error}")).await;
                }
            },
            Some(Event::Dropped(name)) = reported.recv() => {
                let line = format!("{PROGRAM}: {name} stopped reading: dropped from the room");
                cli::diagnose(&mut stdio.stderr, line).await;
            },
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let (room, events) = (Arc::clone(&room), events.clone());
                    members.spawn(async move { (peer, serve_member(stream, room, events, stall).await) });
                }
                // Out of file descriptors, most likely: the room goes on with who is in it.
                Err(error) => {
                    cli::diagnose(&mut stdio.stderr, format!("{PROGRAM}: accept failed: {error}")).await;
                }
            },
        }
    }
}

/// One member, from its name to its leaving.
async fn serve_member<S>(
    stream: S,
    room: Arc<Mutex<Room>>,
    events: mpsc::UnboundedSender<Event>,
    stall: std::time::Duration,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut reads, mut writes) = tokio::io::split(stream);
    // What the client sends, cut into lines in one 4 KiB buffer (a longer line is
    // skipped): the same cutting as the blocking line servers.
    let mut lines = Lines::default();
    let mut said = Vec::new();
    // The first line is the member's name; lines that came with it are said after.
    let name = loop {
        if !receive(&mut reads, &mut lines, &mut said).await? {
            // Gone before it said who it is.
            return Ok(());
        }
        if !said.is_empty() {
            break said.remove(0).trim().to_owned();
        }
    };
    if name.is_empty() {
        // Best effort: a client that sends an empty name may not read either.
        let _ = writes.write_all(b"error: send your name first\n").await;
        return Ok(());
    }
    let (membership, late) = lock(&room).join(&name);
    deliver_late(&room, late, &events, stall).await;
    let id = membership.id;
    let mut inbox = membership.inbox;
    let written = membership.written;
    // The writer: the member's outbox to its socket, at the pace its socket takes.
    let writer = tokio::spawn(async move {
        // Every line waiting, in one write: a writer as quick as the busiest talker. The
        // batch lives only for its write: 10,000 idle members keep no buffers.
        let mut lines = Vec::new();
        while inbox.recv_many(&mut lines, OUTBOX_LINES).await > 0 {
            let mut batch = Vec::with_capacity(lines.iter().map(|line| line.len()).sum());
            for line in lines.drain(..) {
                batch.extend_from_slice(line.as_bytes());
            }
            writes.write_all(&batch).await?;
            written.fetch_add(1, Ordering::Relaxed);
            lines.shrink_to(32);
        }
        // The room let go of the outbox: the member left; end our side too.
        writes.shutdown().await
    });
    // The reader: every line said to the room, until the member leaves or is dropped.
    let ended: io::Result<()> = loop {
        for text in said.drain(..) {
            if !text.trim().is_empty() {
                let late = lock(&room).say(id, &text);
                deliver_late(&room, late, &events, stall).await;
            }
        }
        tokio::select! {
            received = receive(&mut reads, &mut lines, &mut said) => match received {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                // A reset (the client was killed) is a leaving like any other (chat/5).
                Err(error) => break Err(error),
            },
            () = membership.dropped.notified() => {
                writer.abort();
                return Ok(());
            }
        }
    };
    let late = lock(&room).leave(id);
    deliver_late(&room, late, &events, stall).await;
    // Its outbox is closed now: the writer sends what is left in it, then ends. A write
    // that fails means the client is gone, which is how it left: nothing more to report.
    let _ = writer.await;
    ended
}

/// Waits for room in the outboxes that were full (the talker's next line waits with it).
/// A member whose writer wrote nothing for `stall` while we waited has stopped reading:
/// it is dropped, and its leaving told. A member that reads, however slowly, is waited
/// for: the room moves at the pace of its slowest reader.
async fn deliver_late(
    room: &Mutex<Room>,
    late: Option<Late>,
    events: &mpsc::UnboundedSender<Event>,
    stall: std::time::Duration,
) {
    let mut waiting: Vec<Late> = late.into_iter().collect();
    while let Some(Late { line, members }) = waiting.pop() {
        for id in members {
            // Looked up now: a member that left meanwhile is not waited for.
            let Some(outbox) = lock(room).outbox(id) else {
                continue;
            };
            if !wait_for_room(&outbox, Arc::clone(&line), stall).await
                && let Some((name, leaving)) = lock(room).drop_stalled(id)
            {
                let _ = events.send(Event::Dropped(name));
                waiting.extend(leaving);
            }
        }
    }
}

/// Puts `line` in `outbox` once it has room: `false` if its writer wrote nothing for
/// `stall` meanwhile (the member stopped reading).
async fn wait_for_room(outbox: &Outbox, mut line: Arc<str>, stall: std::time::Duration) -> bool {
    let mut seen = outbox.written.load(Ordering::Relaxed);
    let mut still_since = tokio::time::Instant::now();
    loop {
        match outbox.sender.send_timeout(line, stall / 4).await {
            Ok(()) | Err(mpsc::error::SendTimeoutError::Closed(_)) => return true,
            Err(mpsc::error::SendTimeoutError::Timeout(back)) => line = back,
        }
        let now_written = outbox.written.load(Ordering::Relaxed);
        if now_written != seen {
            // It is reading: wait on.
            seen = now_written;
            still_since = tokio::time::Instant::now();
        } else if still_since.elapsed() >= stall {
            return false;
        }
    }
}

/// One `recv`: the lines it completes are added to `said`. `false` at the end of the
/// stream.
async fn receive<R: AsyncRead + Unpin>(
    reads: &mut R,
    lines: &mut Lines,
    said: &mut Vec<String>,
) -> io::Result<bool> {
    let count = reads.read(lines.space()).await?;
    if count == 0 {
        return Ok(false);
    }
    lines.received(count, |line| {
        if let Line::Text(bytes) = line {
            said.push(String::from_utf8_lossy(bytes).into_owned());
        }
    });
    Ok(true)
}

/// The room, even if a task panicked while holding it (the room's own state is updated
/// in single steps, so it is never left half-changed).
fn lock(room: &Mutex<Room>) -> std::sync::MutexGuard<'_, Room> {
    room.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
