//! `calc-select PORT`: one thread, every client at once, by readiness (SPEC calc/4).
//!
//! The thread never blocks on one client. It asks the kernel, with `poll(2)`, which
//! sockets are ready (a new client to accept, bytes to read, room to write), handles
//! exactly those, and asks again. Every socket is non-blocking, so a `recv` or `send` that
//! cannot proceed returns `WouldBlock` instead of stopping the whole server.
//!
//! The handout's `select` server has the classic bug this one avoids: it calls a blocking
//! `sendall` for a client that does not read its replies, and every other client waits.
//! Here replies go into the client's own queue, written when `poll` says there is room;
//! a client whose queue is full is not read from until it drains (it waits, alone).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

use clap::Parser;

use super::{ServerArgs, answer};
use crate::line_server::lines::Lines;
use crate::line_server::{bind, report_client};

const PROGRAM: &str = "calc-select";

/// Replies queued for one client beyond which it is not read from until they are sent.
const MAX_QUEUED: usize = 64 * 1024;

/// One connected client: its socket, its unfinished line, its unsent replies.
struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    lines: Lines,
    queued: Vec<u8>,
    /// It closed its side: send what is queued, then close.
    finished: bool,
}

/// Runs `calc-select` with the process's arguments: serves until killed, and returns only if it
/// cannot start.
pub fn main() -> ExitCode {
    let args = ServerArgs::parse();
    let listener = match bind(PROGRAM, args.port) {
        Ok(listener) => listener,
        Err(status) => return status,
    };
    if let Err(error) = listener.set_nonblocking(true) {
        eprintln!("{PROGRAM}: {error}");
        return ExitCode::FAILURE;
    }
    let mut clients: BTreeMap<i32, Client> = BTreeMap::new();
    loop {
        // What to wait for: new clients, and for each client, bytes (unless its queue is
        // full or it has finished) and room to write (if it has replies queued).
        let mut watched = vec![libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        for (fd, client) in &clients {
            let mut events = 0;
            if !client.finished && client.queued.len() < MAX_QUEUED {
                events |= libc::POLLIN;
            }
            if !client.queued.is_empty() {
                events |= libc::POLLOUT;
            }
            watched.push(libc::pollfd {
                fd: *fd,
                events,
                revents: 0,
            });
        }
        // SAFETY: `watched` is a valid array of pollfd of the length given.
        let ready = unsafe { libc::poll(watched.as_mut_ptr(), watched.len() as libc::nfds_t, -1) };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                eprintln!("{PROGRAM}: poll failed: {error}");
                return ExitCode::FAILURE;
            }
            continue;
        }
        if watched[0].revents != 0 {
            accept_all(&listener, &mut clients);
        }
        for entry in &watched[1..] {
            if entry.revents == 0 {
                continue;
            }
            let client = clients.get_mut(&entry.fd).expect("watched clients exist");
            if let Err(error) = serve_ready(client) {
                report_client(PROGRAM, Some(client.peer), error);
                clients.remove(&entry.fd);
                continue;
            }
            if client.finished && client.queued.is_empty() {
                // Dropping the socket closes it.
                clients.remove(&entry.fd);
            }
        }
    }
}

/// Accepts every client waiting (several may have come since the last `poll`).
fn accept_all(listener: &TcpListener, clients: &mut BTreeMap<i32, Client>) {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if let Err(error) = stream.set_nonblocking(true) {
                    report_client(PROGRAM, Some(peer), error);
                    continue;
                }
                let client = Client {
                    stream,
                    peer,
                    lines: Lines::default(),
                    queued: Vec::new(),
                    finished: false,
                };
                clients.insert(client.stream.as_raw_fd(), client);
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
            Err(error) => {
                report_client(PROGRAM, None, error);
                return;
            }
        }
    }
}

/// Reads what a ready client sent and writes what fits of its replies; never blocks.
fn serve_ready(client: &mut Client) -> io::Result<()> {
    if !client.finished && client.queued.len() < MAX_QUEUED {
        match client.stream.read(client.lines.space()) {
            Ok(0) => client.finished = true,
            Ok(count) => {
                let queued = &mut client.queued;
                client.lines.received(count, |line| {
                    queued.extend(answer(line).unwrap_or_default())
                });
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
    }
    // One `write`: it may take part of the queue; the rest waits for the next POLLOUT.
    if !client.queued.is_empty() {
        match client.stream.write(&client.queued) {
            Ok(count) => {
                client.queued.drain(..count);
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
