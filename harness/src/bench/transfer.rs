//! One measured transfer: a message server started and listening, then a client started
//! with the message on its stdin, timed until the server has printed the message's last
//! byte.
//!
//! Two times are taken from the same run:
//! - *with start-up*: from spawning the client to the last byte on the server's stdout
//!   (the client's process start, interpreter or runtime, connect, transfer, printing);
//! - *transfer only*: from the first byte on the server's stdout to the last.
//!
//! The server is started fresh for every run (a `nc -l` serves one connection only) and
//! its readiness is read from `/proc`, not probed with a connection, which a sequential
//! server would count as a client. Every process runs in a process group of its own,
//! killed when the run ends, however it ends.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::world::real::{cleanup, readiness};

/// How long a server may take to listen, and a transfer to complete.
const LISTEN_WITHIN: Duration = Duration::from_secs(10);
const TRANSFER_WITHIN: Duration = Duration::from_secs(120);

/// A program ready to run: its command line and where.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub(crate) argv: Vec<String>,
    pub(crate) workdir: Option<std::path::PathBuf>,
    /// Bytes its stdin starts with (a program that asks for its port with `input()`).
    pub(crate) stdin_prefix: Option<Vec<u8>>,
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) with_startup: Duration,
    pub(crate) transfer_only: Duration,
}

/// Runs `server` on `port`, waits until it listens, then `client` with `message_file` on
/// its stdin; checks the server printed exactly `message`.
pub(super) fn measure(
    server: &Launch,
    client: &Launch,
    port: u16,
    message_file: &Path,
    message: &[u8],
) -> Result<Timing, String> {
    let mut server_process = Group::spawn(server, Stdio::piped(), None)
        .map_err(|error| format!("cannot start the server `{}`: {error}", server.argv[0]))?;
    let stdout = server_process.child.stdout.take().expect("piped");
    let (arrived, printed) = mpsc::channel();
    let expected = message.to_vec();
    std::thread::spawn(move || watch_output(stdout, &expected, arrived));

    let listen_deadline = Instant::now() + LISTEN_WITHIN;
    while !readiness::group_listens_on(server_process.group, port) {
        if let Ok(Some(status)) = server_process.child.try_wait() {
            return Err(format!(
                "the server exited ({status}) before listening on port {port}"
            ));
        }
        if Instant::now() > listen_deadline {
            return Err(format!(
                "the server did not listen on port {port} within {} s",
                LISTEN_WITHIN.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }

    let started = Instant::now();
    let input = File::open(message_file).map_err(|error| error.to_string())?;
    let client_process = Group::spawn(client, Stdio::null(), Some(input))
        .map_err(|error| format!("cannot start the client `{}`: {error}", client.argv[0]))?;
    let result = match printed.recv_timeout(TRANSFER_WITHIN) {
        Ok(Printed::All { first, last }) => Ok(Timing {
            with_startup: last - started,
            transfer_only: last - first,
        }),
        Ok(Printed::Wrong { at, reason }) => Err(format!(
            "the server printed {reason} at byte {at} of {}",
            message.len()
        )),
        Err(_) => Err(format!(
            "the message was not through within {} s",
            TRANSFER_WITHIN.as_secs()
        )),
    };
    drop(client_process);
    drop(server_process);
    result
}

/// What the server's stdout showed.
enum Printed {
    /// Every byte, right: when the first and the last arrived.
    All { first: Instant, last: Instant },
    /// A byte that differs, or the end before the last byte.
    Wrong { at: usize, reason: &'static str },
}

/// Reads the server's stdout, compares it with `expected` as it comes, and says when the
/// last byte arrived (or what went wrong).
fn watch_output(mut stdout: impl Read, expected: &[u8], arrived: mpsc::Sender<Printed>) {
    let mut buffer = vec![0u8; 1 << 16];
    let mut seen = 0;
    let mut first = None;
    loop {
        let read = match stdout.read(&mut buffer) {
            Ok(0) | Err(_) => {
                let _ = arrived.send(Printed::Wrong {
                    at: seen,
                    reason: "nothing more (its stdout closed)",
                });
                return;
            }
            Ok(read) => read,
        };
        let now = Instant::now();
        first.get_or_insert(now);
        let end = seen + read;
        if end > expected.len() || buffer[..read] != expected[seen..end] {
            let _ = arrived.send(Printed::Wrong {
                at: seen,
                reason: "other bytes than the client was given",
            });
            return;
        }
        seen = end;
        if seen == expected.len() {
            let first = first.expect("set above");
            let _ = arrived.send(Printed::All { first, last: now });
            // Keep draining, so that a server printing more does not block on a full pipe
            // before it is killed.
            while matches!(stdout.read(&mut buffer), Ok(read) if read > 0) {}
            return;
        }
    }
}

/// A process in a process group of its own, killed with its group when dropped.
struct Group {
    child: Child,
    group: i32,
}

impl Group {
    fn spawn(launch: &Launch, stdout: Stdio, input: Option<File>) -> io::Result<Group> {
        let mut command = Command::new(&launch.argv[0]);
        command
            .args(&launch.argv[1..])
            .stdout(stdout)
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(workdir) = &launch.workdir {
            command.current_dir(workdir);
        }
        // A prefix goes first through a pipe; otherwise the file itself is stdin, as in
        // `nc host port < file`.
        match (&launch.stdin_prefix, &input) {
            (None, Some(file)) => {
                command.stdin(file.try_clone()?);
            }
            (None, None) => {
                command.stdin(Stdio::null());
            }
            (Some(_), _) => {
                command.stdin(Stdio::piped());
            }
        }
        let mut child = command.spawn()?;
        let group = i32::try_from(child.id()).expect("pids fit in i32");
        cleanup::register(group);
        if let Some(prefix) = launch.stdin_prefix.clone() {
            let mut stdin = child.stdin.take().expect("piped");
            let mut rest = input;
            std::thread::spawn(move || {
                let _ = stdin.write_all(&prefix);
                if let Some(file) = rest.as_mut() {
                    let _ = io::copy(file, &mut stdin);
                }
            });
        }
        Ok(Group { child, group })
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        cleanup::kill_group(self.group);
        let _ = self.child.wait();
    }
}
