//! `harness questions`: the handouts' lab questions, answered by running the experiment.
//!
//! Each question is run twice: on this machine's loopback (the kernel's real answers:
//! `ECONNREFUSED`, `EADDRINUSE`, ICMP port unreachable, `listen(0)`, TIME_WAIT) and in the
//! simulated network (deterministic for a seed). The answer prints what each run observed,
//! a short explanation, and where the two worlds differ; `--pcap DIR` writes a capture of
//! each experiment, synthesized from what the harness's own sockets did.

mod real;
mod simulated;

use std::fmt::Write as _;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reference::cli::Stdio;

use crate::pcap::PacketLog;
use crate::world::capture::{Capture, CaptureWriter};

/// A lab question.
#[derive(Debug)]
pub struct Question {
    /// Its number in SPEC.md's list.
    pub number: u8,
    /// The question, as the handout asks it.
    pub text: &'static str,
    /// The handout it comes from.
    pub handout: &'static str,
    /// What the experiment does.
    pub setup: &'static str,
    /// Why it happens, for a student.
    pub explanation: &'static str,
    /// What the simulated network does not model, if it matters here.
    pub simulation_note: Option<&'static str>,
}

/// The eight questions of SPEC.md ("Lab questions the kit answers by experiment").
pub const QUESTIONS: [Question; 8] = [
    Question {
        number: 1,
        text: "A TCP client started before its server: what happens, and why?",
        handout: "seed 001 (TCPClient before TCPServer)",
        setup: "a client connects to a port where nothing listens yet; then a server binds the port and the client tries again",
        explanation: "The client's SYN reaches a host where no socket listens on that port, so the kernel answers at once with a RST and connect() fails with \"Connection refused\" (ECONNREFUSED). Nothing waits or retries for the client: the program must be started again (or loop) once the server listens.",
        simulation_note: None,
    },
    Question {
        number: 2,
        text: "A UDP client started before its server?",
        handout: "seed 001 (UDPClient before UDPServer)",
        setup: "a client sends a datagram to a port where nothing is bound yet, and waits 1 s for an answer; then the server binds the port",
        explanation: "UDP has no connection: sendto() succeeds because the datagram left, not because anyone got it. The receiving host drops it and sends back ICMP \"port unreachable\". An unconnected socket ignores that ICMP, so recvfrom() just waits (here until our 1 s timeout; the handout's client, with no timeout, waits forever). A connected UDP socket (connect() then send()) gets the ICMP as an error on its next recv: ECONNREFUSED. The datagram is not kept for a server that starts later.",
        simulation_note: Some(
            "turmoil has no ICMP: in the simulation both kinds of socket simply time out",
        ),
    },
    Question {
        number: 3,
        text: "Client and server on different port numbers, TCP and UDP?",
        handout: "seed 001",
        setup: "a server listens on one port (TCP and UDP); the client uses another",
        explanation: "A port number names the receiving socket. With TCP the wrong port is a port where nothing listens: refused at once, like a client started before its server. With UDP the datagram goes to a port where nothing is bound: it is dropped (ICMP port unreachable comes back; only a connected socket notices) and the real server receives nothing.",
        simulation_note: Some("turmoil has no ICMP: the UDP client only times out"),
    },
    Question {
        number: 4,
        text: "A server started on a port already in use; a client with no server.",
        handout: "seed 004",
        setup: "a second socket binds a port a server already listens on; the reference message-server is started on that port; the reference message-client is run with no server",
        explanation: "Only one listening socket may own a port: bind() fails with \"Address already in use\" (EADDRINUSE), and a correct server says so on stderr and exits non-zero (SPEC message/6). A client with no server gets ECONNREFUSED from connect() and must also report it and exit non-zero (message/7), not crash with a traceback or hang.",
        simulation_note: None,
    },
    Question {
        number: 5,
        text: "Does listen(0) refuse a second client? (seed 004 claims so)",
        handout: "seed 004",
        setup: "a server calls listen(0) and never calls accept(); three clients connect one after the other, each given 500 ms",
        explanation: "No refusal on Linux. The backlog is a hint for the queue of connections that completed the handshake but were not accept()ed yet; Linux lets backlog + 1 connections wait, so with listen(0) one client completes its connect() without any accept(). When the queue is full the kernel does not refuse: it silently drops the next SYN, and that client stays in connect(), retrying the SYN (after 1 s, then 3 s, ...) until the server accepts or the client gives up. The handout's claim is wrong: listen(0) delays clients, it does not refuse them.",
        simulation_note: Some(
            "turmoil has no backlog: a connect() completes only when the server calls accept(), so every client waits",
        ),
    },
    Question {
        number: 6,
        text: "Does TCP keep message boundaries? Does UDP? What does a too-small recvfrom buffer do?",
        handout: "seeds 000, 001",
        setup: "a client makes three sends on a TCP connection and the server reads once after they arrived; the same three as UDP datagrams; then a 100-byte datagram read with a 10-byte buffer",
        explanation: "TCP is a byte stream: the receiver gets the bytes in order but not the sends; one recv may return several sends (or part of one), so a protocol needs its own framing (a length, a delimiter, or the end of the connection). UDP keeps each datagram whole: one recvfrom returns one datagram. If the buffer is smaller than the datagram, the rest of that datagram is discarded: it is not returned by the next recvfrom.",
        simulation_note: Some(
            "turmoil delivers each send as one segment, so its plain streams look like they keep boundaries: that is why the kit wraps simulated streams in its seeded short-I/O adapter",
        ),
    },
    Question {
        number: 7,
        text: "Why does a restarted server fail to bind at once (TIME_WAIT, SO_REUSEADDR)?",
        handout: "seeds 001, 004",
        setup: "a server closes a connection first and exits; it is restarted on the same port at once: never using SO_REUSEADDR, using it only on the restart, and using it every time",
        explanation: "The side that closes a TCP connection first keeps it in TIME_WAIT for a while (60 s on Linux) so that late segments of the old connection are not taken for a new one. While that entry exists, bind() on the port fails with EADDRINUSE. SO_REUSEADDR lifts this, but on Linux only if the old socket had it too: setting it in the restarted server alone is not enough. So a server sets SO_REUSEADDR every time, before bind() (Python: sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)); a listening socket still cannot be shared.",
        simulation_note: Some(
            "turmoil keeps no TIME_WAIT state, so the restart always succeeds there",
        ),
    },
    Question {
        number: 8,
        text: "How do RTT and loss look to the pinger under a given delay and loss rate?",
        handout: "seed 003 (UDP pinger, Kurose & Ross)",
        setup: "10 pings, 1 s timeout each, to a UDP echo server that drops 30% of the pings (seeded, as the handout's server does with random()) and answers after 20 ms",
        explanation: "Each answered ping's RTT is the delay plus a little processing: about 20 ms here, very stable on one machine. A lost ping shows as \"Request timed out\" after the full 1 s timeout, so losses dominate the run time. With 10 pings the observed loss rate is only a rough estimate of the 30% the server applies: count how many are lost over many more pings to approach it.",
        simulation_note: None,
    },
];

/// One observed fact: a key for tests, a short value, and the sentence a student reads.
#[derive(Debug, Clone)]
pub struct Fact {
    /// Stable name of what was observed (`connect-before-server`).
    pub key: &'static str,
    /// The outcome in a word or two (`ConnectionRefused`, `Ok`, `3 lost`).
    pub value: String,
    /// What happened, with numbers.
    pub detail: String,
    /// Whether the value is an outcome to compare between worlds (not a measurement).
    pub compared: bool,
}

/// What one run of an experiment observed.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The facts, in the order they were observed.
    pub facts: Vec<Fact>,
    /// The packets the experiment's sockets exchanged.
    pub packets: PacketLog,
}

impl Observation {
    fn fact(&mut self, key: &'static str, value: impl Into<String>, detail: impl Into<String>) {
        self.facts.push(Fact {
            key,
            value: value.into(),
            detail: detail.into(),
            compared: true,
        });
    }

    /// A measurement: shown, never compared between worlds (timings differ by nature).
    fn measure(&mut self, key: &'static str, value: impl Into<String>, detail: impl Into<String>) {
        self.fact(key, value, detail);
        if let Some(fact) = self.facts.last_mut() {
            fact.compared = false;
        }
    }

    /// The value observed for `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|fact| fact.key == key)
            .map(|fact| fact.value.as_str())
    }
}

/// A question and what each world observed.
#[derive(Debug)]
pub struct Answer {
    /// The question.
    pub question: &'static Question,
    /// On loopback (`None` if not run), or why it could not run.
    pub real: Option<Result<Observation, String>>,
    /// In the simulated network.
    pub simulated: Option<Result<Observation, String>>,
}

/// Which worlds to run the experiments in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worlds {
    /// Loopback only.
    Real,
    /// The simulated network only (deterministic).
    Simulated,
    /// Both, side by side.
    Both,
}

/// The parameters of the pinger experiment.
#[derive(Debug, Clone, Copy)]
pub struct PingPlan {
    /// How many pings.
    pub pings: u32,
    /// Probability that the server drops a ping.
    pub loss: f64,
    /// Round-trip delay the server adds (real world) or the network has (simulated).
    pub delay: Duration,
    /// How long the client waits for each answer.
    pub timeout: Duration,
}

impl Default for PingPlan {
    fn default() -> PingPlan {
        PingPlan {
            pings: 10,
            loss: 0.3,
            delay: Duration::from_millis(20),
            timeout: Duration::from_secs(1),
        }
    }
}

/// Runs the experiments of `numbers` (every question if empty).
pub fn answer(numbers: &[u8], worlds: Worlds, seed: u64) -> io::Result<Vec<Answer>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut answers = Vec::new();
    for question in QUESTIONS
        .iter()
        .filter(|q| numbers.is_empty() || numbers.contains(&q.number))
    {
        let real = (worlds != Worlds::Simulated).then(|| {
            runtime
                .block_on(real::run(question.number, seed))
                .map_err(|error| error.to_string())
        });
        let simulated = (worlds != Worlds::Real)
            .then(|| simulated::run(question.number, seed).map_err(|error| error.to_string()));
        answers.push(Answer {
            question,
            real,
            simulated,
        });
    }
    Ok(answers)
}

/// The answers as the terminal shows them.
pub fn render(answers: &[Answer], seed: u64) -> String {
    let mut text = String::new();
    for answer in answers {
        let question = answer.question;
        let _ = writeln!(text, "Q{}. {}", question.number, question.text);
        let _ = writeln!(text, "  handout    {}", question.handout);
        let _ = writeln!(text, "  setup      {}", question.setup);
        let worlds = [("loopback", &answer.real), ("simulated", &answer.simulated)];
        for (label, observation) in worlds {
            let label = if label == "simulated" {
                format!("simulated (turmoil, seed {seed})")
            } else {
                "loopback (this machine's kernel)".to_string()
            };
            match observation {
                None => {}
                Some(Err(error)) => {
                    let _ = writeln!(text, "  {label}\n    the experiment could not run: {error}");
                }
                Some(Ok(observation)) => {
                    let _ = writeln!(text, "  {label}");
                    for fact in &observation.facts {
                        let _ = writeln!(text, "    - {}", fact.detail);
                    }
                }
            }
        }
        let _ = writeln!(text, "  answer     {}", question.explanation);
        if let (Some(Ok(real)), Some(Ok(simulated))) = (&answer.real, &answer.simulated) {
            let differences: Vec<String> = real
                .facts
                .iter()
                .filter(|fact| fact.compared)
                .filter_map(|fact| {
                    let other = simulated.value(fact.key)?;
                    (other != fact.value)
                        .then(|| format!("{}: {} vs {}", fact.key, fact.value, other))
                })
                .collect();
            if !differences.is_empty() {
                let why = question
                    .simulation_note
                    .map(|note| format!(" ({note})"))
                    .unwrap_or_default();
                let _ = writeln!(text, "  worlds     differ{why}: {}", differences.join("; "));
            }
        }
        text.push('\n');
    }
    text
}

/// Writes `q<N>-loopback.pcap` and `q<N>-simulated.pcap` for every answer into `dir`.
pub fn write_captures(answers: &[Answer], dir: &Path) -> io::Result<Vec<PathBuf>> {
    crate::report::new_file::folder(dir)?;
    let mut written = Vec::new();
    for answer in answers {
        for (world, observation) in [("loopback", &answer.real), ("simulated", &answer.simulated)] {
            if let Some(Ok(observation)) = observation {
                let path = dir.join(format!("q{}-{world}.pcap", answer.question.number));
                observation
                    .packets
                    .write_to(crate::report::new_file::create(&path)?)?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

/// How long a UDP client waits for an answer (the pinger handout's 1 second).
const UDP_WAIT: Duration = Duration::from_secs(1);
/// How long a connect may take before we call it "still waiting".
const CONNECT_WAIT: Duration = Duration::from_millis(500);

/// `12.34 ms` since `since`, on tokio's clock (simulated time in the simulation).
fn millis(since: tokio::time::Instant) -> String {
    format!("{:.2} ms", since.elapsed().as_secs_f64() * 1000.0)
}

/// A connect given [`CONNECT_WAIT`], started at `started`; `why` explains a wait.
fn describe_connect<T>(
    attempt: &Result<io::Result<T>, tokio::time::error::Elapsed>,
    started: tokio::time::Instant,
    why: &str,
) -> (String, String) {
    match attempt {
        Err(_) => (
            "StillConnecting".into(),
            format!(
                "still connecting after {} ms{why}",
                CONNECT_WAIT.as_millis()
            ),
        ),
        Ok(result) => {
            let (value, detail) = describe_error(result);
            (value, format!("{detail}, after {}", millis(started)))
        }
    }
}

/// A UDP send and the [`UDP_WAIT`] for its answer, as one value (`Ok/Timeout`) and one
/// sentence.
fn describe_ping<A, B>(
    sent: &io::Result<A>,
    received: &Result<io::Result<B>, tokio::time::error::Elapsed>,
) -> (String, String) {
    let (sent_value, sent_detail) = describe_error(sent);
    let (value, detail) = match received {
        Err(_) => (
            "Timeout".to_string(),
            format!("no answer within {} ms", UDP_WAIT.as_millis()),
        ),
        Ok(result) => describe_error(result),
    };
    (
        format!("{sent_value}/{value}"),
        format!("sendto: {sent_detail}; then recv: {detail}"),
    )
}

/// `("Ok", "succeeded")`, or the error's kind and its message with the kernel's name.
fn describe_error<T>(result: &io::Result<T>) -> (String, String) {
    match result {
        Ok(_) => ("Ok".into(), "succeeded".into()),
        Err(error) => {
            let detail = match error.raw_os_error() {
                // The kernel's message and the C name students look up: ECONNREFUSED.
                Some(errno) => match kernel_name(errno) {
                    Some(name) => format!("failed: {error} ({name})"),
                    None => format!("failed: {error}"),
                },
                // A simulated error: its kind says what it is, the message where.
                None => format!("failed: {} ({error})", error.kind()),
            };
            (format!("{:?}", error.kind()), detail)
        }
    }
}

/// The C name of an errno the experiments meet.
fn kernel_name(errno: i32) -> Option<&'static str> {
    Some(match errno {
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ECONNRESET => "ECONNRESET",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EPIPE => "EPIPE",
        _ => return None,
    })
}

/// Runs the reference message-server on `busy_port` (another socket holds it) and the
/// reference message-client against `host:free_port` (nothing listens there), and says
/// how each ended: the same code in both worlds, only the network differs.
async fn reference_errors<N: reference::net::Network>(
    network: N,
    busy_port: u16,
    host: &str,
    free_port: u16,
) -> Vec<Fact> {
    let mut observation = Observation::default();
    let server_args = vec!["message-server".into(), busy_port.to_string()];
    let (status, stderr) = run_reference(
        reference::message::server_main,
        network.clone(),
        server_args,
    )
    .await;
    observation.fact(
        "reference-server-on-busy-port",
        format!("exit {status}"),
        format!(
            "the reference message-server on that port: exit status {status}, stderr {stderr:?}"
        ),
    );
    let client_args = vec!["message-client".into(), host.into(), free_port.to_string()];
    let (status, stderr) =
        run_reference(reference::message::client_main, network, client_args).await;
    observation.fact(
        "reference-client-without-server",
        format!("exit {status}"),
        format!(
            "the reference message-client with no server: exit status {status}, stderr {stderr:?}"
        ),
    );
    observation.facts
}

/// Runs a reference program with no stdin and captured output; returns its exit status
/// and what it printed on stderr.
async fn run_reference<N, F, Fut>(program: F, network: N, args: Vec<String>) -> (i32, String)
where
    F: FnOnce(N, Vec<String>, Stdio) -> Fut,
    Fut: Future<Output = i32>,
{
    let stdout = Arc::new(Capture::memory(1 << 20));
    let stderr = Arc::new(Capture::memory(1 << 20));
    let stdio = Stdio {
        stdin: Box::new(tokio::io::empty()),
        stdout: Box::new(CaptureWriter(Arc::clone(&stdout))),
        stderr: Box::new(CaptureWriter(Arc::clone(&stderr))),
    };
    let status = program(network, args, stdio).await;
    (
        status,
        String::from_utf8_lossy(&stderr.head(4096))
            .trim_end()
            .to_owned(),
    )
}

/// The pinger's summary facts.
fn ping_facts(observation: &mut Observation, plan: &PingPlan, rtts: &[Duration], took: Duration) {
    let lost = plan.pings as usize - rtts.len();
    observation.fact(
        "lost",
        format!("{lost} of {}", plan.pings),
        format!(
            "{} pings, {} answered, {lost} timed out ({:.0}% observed loss; the server drops {:.0}%)",
            plan.pings,
            rtts.len(),
            100.0 * lost as f64 / f64::from(plan.pings),
            plan.loss * 100.0
        ),
    );
    if !rtts.is_empty() {
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        let min = rtts.iter().copied().min().unwrap_or_default();
        let max = rtts.iter().copied().max().unwrap_or_default();
        let average = rtts.iter().sum::<Duration>() / rtts.len() as u32;
        observation.measure(
            "rtt",
            format!("{:.0} ms", ms(average)),
            format!(
                "RTT min {:.2} ms, avg {:.2} ms, max {:.2} ms",
                ms(min),
                ms(average),
                ms(max)
            ),
        );
    }
    observation.measure(
        "duration",
        format!("{:.1} s", took.as_secs_f64()),
        format!(
            "the run took {:.2} s: each lost ping costs the whole {} s timeout",
            took.as_secs_f64(),
            plan.timeout.as_secs()
        ),
    );
}
