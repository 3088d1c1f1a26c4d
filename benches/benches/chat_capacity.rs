//! How many members the reference chat server holds, what they cost, and how fast a line
//! reaches all of them (SPEC chat/3: "the reference holds 10,000").
//!
//! `cargo bench -p benches --bench chat_capacity` (10,000 members, 20 broadcasts), or
//! `... -- --clients 2000 --rounds 5` for a quick run (and `--stall-ms N`, the server's,
//! 60000 unless given) (`cargo test -p benches --benches`
//! runs it with 100 members and 2 rounds). The server runs in a process of its
//! own (this program started again with `CHAT_CAPACITY_PORT` set), so its memory is its
//! own: resident memory is read from `/proc/PID/status` before the members come and once
//! they are all in. The members are tokio tasks of this process, each reading all along.
//! Once member1 was told of every join, one round is not measured: when every member has
//! its line, every member has read the join announcements queued for it. A round:
//! member1 says `ping N`, and the time until each other member has the line is
//! one latency sample; p50, p99 and the maximum are over every member of every round, and
//! "everyone" is the time until the last member of a round has it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const PORT_VARIABLE: &str = "CHAT_CAPACITY_PORT";
/// The server's `--stall-ms`, passed on from this program's `--stall-ms`.
const STALL_VARIABLE: &str = "CHAT_CAPACITY_STALL_MS";

/// What member1 counts before it speaks: a join announcement is "round" `JOINED`.
const JOINED: u32 = u32::MAX;

/// The round that is not measured: once every member has it, every member has read all
/// the join announcements queued for it (N² lines in all), and the rounds after it measure
/// a line in a settled room.
const SETTLE: u32 = u32::MAX - 1;

fn main() {
    raise_file_limit();
    if let Ok(port) = std::env::var(PORT_VARIABLE) {
        // The server's process. Its members share this machine's two cores with 10,000
        // readers of the join announcements (N² lines in all): one may not get to read for
        // seconds, which would count as having stopped reading; a real room's members are
        // on machines of their own. So the server waits a minute (`--stall-ms 60000`)
        // unless told otherwise (`-- --stall-ms 2000`, the server's default: on 2 cores a
        // few of 10,000 members are dropped, and the bench says so and fails).
        let args = vec![
            "chat-server".to_owned(),
            port,
            "--stall-ms".to_owned(),
            std::env::var(STALL_VARIABLE).unwrap_or_else(|_| "60000".to_owned()),
        ];
        let status = reference::cli::run_with_args(reference::chat::server::server_main, args);
        std::process::exit(status);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` (CI) does not, and then a
    // small room only proves the bench still works.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let clients = argument("--clients").unwrap_or(if benching { 10_000 } else { 100 });
    let rounds = argument("--rounds").unwrap_or(if benching { 20 } else { 2 });
    let stall_ms = argument("--stall-ms").unwrap_or(60_000);
    let port = free_port();
    let mut server = Command::new(std::env::current_exe().expect("this program's path"))
        .env(PORT_VARIABLE, port.to_string())
        .env(STALL_VARIABLE, stall_ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start the server");
    // Read all along: a server whose stderr pipe is full stops where it writes to it.
    let stderr = server.stderr.take().expect("piped");
    let diagnostics = std::thread::spawn(move || {
        let lines: Vec<String> = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect();
        lines
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(measure(&server, port, clients, rounds));
    let _ = server.kill();
    let _ = server.wait();
    let diagnostics = diagnostics.join().unwrap_or_default();
    if !diagnostics.is_empty() {
        eprintln!(
            "chat-server wrote {} lines on stderr, the first:",
            diagnostics.len()
        );
        for line in diagnostics.iter().take(5) {
            eprintln!("  {line}");
        }
    }
    match outcome {
        Ok(report) => println!("{report}"),
        Err(error) => {
            eprintln!("chat_capacity: {error}");
            std::process::exit(1);
        }
    }
}

async fn measure(server: &Child, port: u16, clients: u32, rounds: u32) -> Result<String, String> {
    let started = Instant::now();
    wait_listening(port).await?;
    let memory_before = resident_kib(server.id())?;
    let (heard_sender, mut heard) = mpsc::unbounded_channel::<(u32, Instant)>();
    let (joined_sender, mut joined_announcements) = mpsc::unbounded_channel::<(u32, Instant)>();
    let mut speaker = None;
    // Every member's writing half stays open for the whole run.
    let mut writers = Vec::with_capacity(clients as usize);
    for number in 1..=clients {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|error| format!("member{number} could not connect: {error}"))?;
        stream
            .write_all(format!("member{number}\n").as_bytes())
            .await
            .map_err(|error| error.to_string())?;
        let (reader, writer) = stream.into_split();
        if number == 1 {
            speaker = Some(writer);
            // member1 counts the joins announced to it.
            tokio::spawn(listen(reader, Listener::Speaker(joined_sender.clone())));
        } else {
            tokio::spawn(listen(reader, Listener::Member(heard_sender.clone())));
            writers.push(writer);
        }
    }
    let mut speaker = speaker.ok_or("no members")?;
    // Everyone is in once member1 was told of every other member's join (a name is taken
    // in when the server gets to it: speaking earlier could miss the last ones).
    let others = clients - 1;
    let deadline = Duration::from_secs(120);
    collect(
        &mut joined_announcements,
        JOINED,
        others,
        Instant::now(),
        deadline,
    )
    .await?;
    let joined = started.elapsed();
    let memory_with_members = resident_kib(server.id())?;
    speaker
        .write_all(format!("ping {SETTLE}\n").as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    collect(&mut heard, SETTLE, others, Instant::now(), deadline).await?;
    let settled = started.elapsed();
    let mut latencies = Vec::with_capacity((others * rounds) as usize);
    let mut everyone = Vec::with_capacity(rounds as usize);
    for round in 0..rounds {
        let sent = Instant::now();
        speaker
            .write_all(format!("ping {round}\n").as_bytes())
            .await
            .map_err(|error| error.to_string())?;
        let arrivals = collect(&mut heard, round, others, sent, deadline).await?;
        everyone.push(*arrivals.iter().max().expect("members"));
        latencies.extend(arrivals);
    }
    drop(writers);
    latencies.sort();
    everyone.sort();
    let per_member =
        (memory_with_members.saturating_sub(memory_before)) as f64 / f64::from(clients);
    Ok(format!(
        "chat-server (reference): {clients} members held, all in after {:.1} s, every \
         announcement read after {:.1} s\n  \
         resident memory: {:.1} MiB before, {:.1} MiB with the members ({per_member:.1} KiB each)\n  \
         a line from member1 to the {others} others, {rounds} rounds: latency p50 {}, p99 {}, max {}; \
         the last member had it after {} (median of rounds)",
        joined.as_secs_f64(),
        settled.as_secs_f64(),
        memory_before as f64 / 1024.0,
        memory_with_members as f64 / 1024.0,
        shown(percentile(&latencies, 50)),
        shown(percentile(&latencies, 99)),
        shown(*latencies.last().unwrap_or(&Duration::ZERO)),
        shown(percentile(&everyone, 50)),
    ))
}

/// Who a reader is: member1, which counts the joins announced to it, or another member,
/// which tells when member1's lines reach it.
enum Listener {
    Speaker(mpsc::UnboundedSender<(u32, Instant)>),
    Member(mpsc::UnboundedSender<(u32, Instant)>),
}

/// One member's reader: every line, and when a line that counts arrived.
async fn listen(mut reader: tokio::net::tcp::OwnedReadHalf, listener: Listener) {
    let mut pending = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let count = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(count) => count,
        };
        let now = Instant::now();
        pending.extend_from_slice(&buffer[..count]);
        let mut start = 0;
        while let Some(end) = pending[start..].iter().position(|byte| *byte == b'\n') {
            let line = &pending[start..start + end];
            let heard = match &listener {
                Listener::Speaker(joins) => line
                    .windows(b" joined".len())
                    .any(|window| window == b" joined")
                    .then_some((joins, JOINED)),
                Listener::Member(rounds) => line
                    .strip_prefix(b"member1: ping ")
                    .and_then(|number| std::str::from_utf8(number).ok()?.parse().ok())
                    .map(|round| (rounds, round)),
            };
            if let Some((sender, round)) = heard {
                let _ = sender.send((round, now));
            }
            start += end + 1;
        }
        pending.drain(..start);
    }
}

/// Waits until `count` members heard round `round`: their latencies from `sent`.
async fn collect(
    heard: &mut mpsc::UnboundedReceiver<(u32, Instant)>,
    round: u32,
    count: u32,
    sent: Instant,
    deadline: Duration,
) -> Result<Vec<Duration>, String> {
    let mut arrivals = Vec::with_capacity(count as usize);
    while arrivals.len() < count as usize {
        match tokio::time::timeout(deadline, heard.recv()).await {
            Ok(Some((heard_round, at))) if heard_round == round => {
                arrivals.push(at.saturating_duration_since(sent));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err("the members' readers ended".into()),
            Err(_) => {
                return Err(format!(
                    "only {} of {count} members heard round {round} within {} s",
                    arrivals.len(),
                    deadline.as_secs()
                ));
            }
        }
    }
    Ok(arrivals)
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * percent / 100]
}

fn shown(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// The value after `name` on the command line (cargo adds `--bench`, which is ignored).
fn argument(name: &str) -> Option<u32> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|arg| arg == name)?;
    args.get(at + 1)?.parse().ok()
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

async fn wait_listening(port: u16) -> Result<(), String> {
    for _ in 0..500 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!("the server never listened on port {port}"))
}

/// `VmRSS` of process `pid`, in KiB.
fn resident_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|error| format!("cannot read the server's memory: {error}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in the server's status".to_owned())
}

/// Each member is a socket here and one in the server: raise the open-file limit to what
/// the system allows.
fn raise_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
