//! `direct-chat-server PORT`: a thread per client reads its lines and routes each one;
//! a writer thread per client sends what is queued for it (see [`crate::direct_chat`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use clap::Parser;

use crate::line_server::lines::{Line, Lines};
use crate::line_server::{STACK, bind, serve_each_on_a_thread};

const PROGRAM: &str = "direct-chat-server";

/// Lines queued for one client before it counts as not reading.
const QUEUED_LINES: usize = 256;

/// Direct chat server: `message|user` goes to `user` only, as `sender|message`.
#[derive(Parser)]
#[command(name = "direct-chat-server")]
struct Args {
    /// TCP port to listen on.
    port: u16,
}

/// Who is connected: each name and the queue of its writer thread. Every thread reads and
/// changes it under its lock, held only to look up or change an entry, never while
/// sending.
#[derive(Default)]
pub struct Directory {
    users: HashMap<String, Registered>,
    next_id: u64,
}

/// One registered name's writer queue, and which connection holds the name (so that a
/// client leaving removes its own entry, never a newer one's).
struct Registered {
    connection: u64,
    queue: SyncSender<Vec<u8>>,
}

/// Runs `direct-chat-server` with the process's arguments: serves until killed, and returns only if
/// it cannot listen.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    let directory = Arc::new(Mutex::new(Directory::default()));
    serve_each_on_a_thread(PROGRAM, listener, move |stream| {
        serve_client(stream, &directory)
    })
}

/// One client: its name, then every line routed, until it closes.
fn serve_client(stream: TcpStream, directory: &Mutex<Directory>) -> io::Result<()> {
    // The writer thread owns a clone of the socket and sends what is queued for it.
    let (queue, queued) = sync_channel(QUEUED_LINES);
    let writer = {
        let stream = stream.try_clone()?;
        thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || write_queued(stream, queued))?
    };
    let mut reader = stream;
    let mut lines = Lines::default();
    let mut received = Vec::new();
    let mut name: Option<(String, u64)> = None;
    let ended = loop {
        let count = match reader.read(lines.space()) {
            // The client closed: it leaves.
            Ok(0) => break Ok(()),
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            // A reset is a leaving too.
            Err(error) => break Err(error),
        };
        // Every line this recv completed, in order (two messages in one recv are two).
        lines.received(count, |line| {
            received.push(match line {
                Line::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                Line::TooLong => None,
            });
        });
        for line in received.drain(..) {
            let answer = match (&name, line) {
                (_, None) => Some("error: a line is at most 4 KiB\n".to_owned()),
                (None, Some(wanted)) => match register(directory, wanted.trim(), &queue) {
                    Ok(connection) => {
                        let welcome = format!("ok: welcome {}\n", wanted.trim());
                        name = Some((wanted.trim().to_owned(), connection));
                        Some(welcome)
                    }
                    Err(refusal) => Some(refusal),
                },
                (Some((sender, _)), Some(line)) => route(directory, sender, &line),
            };
            if let Some(answer) = answer {
                // Never waits: a client whose own queue is full does not read its answers,
                // and loses them rather than stopping this thread.
                let _ = queue.try_send(answer.into_bytes());
            }
        }
    };
    if let Some((sender, connection)) = &name {
        let mut users = lock(directory);
        if users
            .users
            .get(sender)
            .is_some_and(|entry| entry.connection == *connection)
        {
            users.users.remove(sender);
        }
    }
    // The queue closes: the writer sends what is left and ends.
    drop(queue);
    let _ = writer.join();
    ended
}

/// Registers `name` for a client whose writer reads `queue`: its connection number, or
/// the `error:` line that refuses it.
fn register(
    directory: &Mutex<Directory>,
    name: &str,
    queue: &SyncSender<Vec<u8>>,
) -> Result<u64, String> {
    if name.is_empty() || name.contains('|') {
        return Err("error: a name is not empty and has no `|`\n".to_owned());
    }
    // One lock for the check and the insert: two clients asking for the same name at
    // the same moment cannot both get it.
    let mut users = lock(directory);
    if users.users.contains_key(name) {
        return Err(format!("error: the name {name} is taken\n"));
    }
    users.next_id += 1;
    let connection = users.next_id;
    users.users.insert(
        name.to_owned(),
        Registered {
            connection,
            queue: queue.clone(),
        },
    );
    Ok(connection)
}

/// Routes one `message|user` line from `sender`: `None` when it went, or the `error:`
/// line for the sender.
fn route(directory: &Mutex<Directory>, sender: &str, line: &str) -> Option<String> {
    // The recipient follows the LAST `|`: the message itself may contain `|`.
    let Some((message, recipient)) = line.rsplit_once('|') else {
        return Some("error: write message|user\n".to_owned());
    };
    let recipient = recipient.trim();
    // Clone the queue and let go of the lock before sending.
    let queue = lock(directory)
        .users
        .get(recipient)
        .map(|entry| entry.queue.clone());
    let Some(queue) = queue else {
        return Some(format!("error: no user named {recipient}\n"));
    };
    match queue.try_send(format!("{sender}|{message}\n").into_bytes()) {
        Ok(()) => None,
        Err(TrySendError::Full(_)) => Some(format!(
            "error: {recipient} is not reading; the message was not delivered\n"
        )),
        Err(TrySendError::Disconnected(_)) => Some(format!("error: no user named {recipient}\n")),
    }
}

/// The writer thread: every queued line to the socket, until the queue closes.
fn write_queued(mut stream: TcpStream, queued: Receiver<Vec<u8>>) {
    for line in queued {
        // `write_all` loops over `write`, which may send only part of the line. A failed
        // write means the client is gone; its reader sees that too.
        if stream.write_all(&line).is_err() {
            return;
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// The directory, even if a thread panicked while holding it (each change is one insert
/// or remove: it is never left half-changed).
fn lock(directory: &Mutex<Directory>) -> MutexGuard<'_, Directory> {
    directory.lock().unwrap_or_else(PoisonError::into_inner)
}
