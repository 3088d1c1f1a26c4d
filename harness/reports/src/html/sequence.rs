//! A scenario's transcript drawn as a sequence diagram, in inline SVG.
//!
//! ```text
//!             harness          server
//!  +0.303s       |── connect ──▶|
//!  +0.308s       |── c1: 20480 bytes in 1 write ──▶|
//!  +2.513s       |── FIN ──────▶|
//!  +2.514s       |◀── closed ───|
//! ```
//!
//! One lifeline for the harness's own clients (its connections and datagram senders, on the
//! left), one per program, and one per server the harness plays (an HTTP origin, a mail
//! server, on the right). Who is on each end of a connection comes from the scenario's
//! flows ([`Outcome::wire`], see [`run_record::wire::Flow`]): what goes "to the program" is
//! sent by the end the flow names (for a relay: its first leg's, the client program) and
//! received by the other end (for a relay: its last leg's server, the server program).
//! A harness end that connected is the harness's lifeline; one that accepted is a server
//! the harness plays; a program end is the program of that name (one the engine could
//! not name, `program` or `client program`, is the first program). A connection without
//! a flow goes between the harness and the first program. Arrows pointing at a program
//! carry what the harness (or, through a relay, the submission's other program) sent it;
//! arrows leaving a program carry what it sent.
//!
//! Faults show: data the harness cut into more writes than whole writes would take (short
//! reads forced on the program) is orange and marked ✂ (a relay forwarding in whole writes
//! passes the client program's own pieces on: [`Flow::relay_slices`]); resets and errors
//! are red; a timeout or a failed step closes the diagram with a red line. Rows are
//! evenly spaced; pauses longer than [`PAUSE`] get a row of their own. At most `max_rows`
//! entries are drawn, and the diagram says how many more there were.
//!
//! Here the rows are chosen and placed ([`Diagram`]: every coordinate, label and class);
//! `templates/sequence.svg` (and `arrow.svg`) writes them out, inside the page's template.

use std::collections::HashMap;
use std::fmt::Write;
use std::time::Duration;

use run_record::encoding::decimal_seconds;
use run_record::outcome::{Outcome, Status};
use run_record::transcript::{Direction, TranscriptEntry};
use run_record::wire::{Flow, FlowEnd, Protocol, Side, WHOLE_WRITE};

/// A pause between two entries long enough to be drawn.
const PAUSE: Duration = Duration::from_millis(250);
/// Left margin, for the time labels.
const TIME_COLUMN: u32 = 78;
/// Distance between two lifelines.
const LANE_GAP: u32 = 320;
/// Width of a lifeline's header box.
const HEADER_WIDTH: u32 = 190;
/// Characters of a byte excerpt shown on an arrow.
const EXCERPT_CHARS: usize = 40;
/// The names the engine gives a program end it cannot name (see
/// the harness's `transcript::Transcript::program_end` and `transcript::Transcript::client_end`).
const UNNAMED: [&str; 2] = ["program", "client program"];

/// How one connection is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    /// The lifeline that sends what goes to the program.
    sender: Lane,
    /// The lifeline that receives it (and sends what comes from the program).
    receiver: Lane,
    /// Whether the writes toward the program are the harness's own (a harness peer sends
    /// them, or a slicing relay forwards them): more of them than whole writes would take
    /// were cut on purpose.
    harness_writes: bool,
}

/// Who is on each end of a scenario's connections, from its flows.
#[derive(Debug, Default)]
struct Topology {
    /// Each connection label that has a flow, and how it is drawn.
    routes: HashMap<String, Route>,
}

impl Topology {
    fn of(outcome: &Outcome) -> Topology {
        let first_program = outcome
            .programs
            .first()
            .map_or("program", |program| program.name.as_str());
        let lane = |flow: &Flow, side: Side| {
            let end = end(flow, side);
            if end.program {
                let known = outcome
                    .programs
                    .iter()
                    .any(|program| program.name == end.name);
                if !known && UNNAMED.contains(&end.name.as_str()) {
                    Lane::Program(first_program.to_owned())
                } else {
                    Lane::Program(end.name.clone())
                }
            } else if side == Side::Client {
                Lane::Harness
            } else {
                Lane::Server(end.name.clone())
            }
        };
        let mut legs: HashMap<&str, Vec<&Flow>> = HashMap::new();
        for flow in &outcome.wire.flows {
            legs.entry(&flow.connection).or_default().push(flow);
        }
        let mut routes = HashMap::new();
        for (label, legs) in legs {
            let (first, last) = (legs[0], legs[legs.len() - 1]);
            let relayed = legs.len() > 1
                && legs.iter().all(|leg| leg.protocol == Protocol::Tcp)
                && !first.server.program
                && !last.client.program;
            let harness_writes = if relayed {
                // Unknown (an older recording): the relay's writes count as the harness's.
                last.relay_slices.unwrap_or(true)
            } else {
                !end(first, first.to_program_from).program
            };
            routes.insert(
                label.to_owned(),
                Route {
                    sender: lane(first, first.to_program_from),
                    receiver: lane(last, last.to_program_from.other()),
                    harness_writes,
                },
            );
        }
        Topology { routes }
    }

    /// Whether the harness cut `entry` into pieces on purpose: data toward the program,
    /// written by the harness, in more writes than whole writes would take.
    fn sliced(&self, entry: &TranscriptEntry) -> bool {
        entry.direction == Direction::ToProgram
            && entry.event.is_none()
            && self
                .routes
                .get(&entry.connection)
                .is_none_or(|route| route.harness_writes)
            && entry.pieces > entry.bytes.div_ceil(WHOLE_WRITE).max(1)
    }
}

/// One end of a flow.
fn end(flow: &Flow, side: Side) -> &FlowEnd {
    match side {
        Side::Client => &flow.client,
        Side::Server => &flow.server,
    }
}

/// A lifeline.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lane {
    /// The harness's own clients and datagram senders.
    Harness,
    /// A program of the submission, by its name in the scenario.
    Program(String),
    /// A server the harness plays.
    Server(String),
}

/// The lifelines of a diagram, left to right, and the command line of each program.
struct Lanes {
    lanes: Vec<Lane>,
    commands: HashMap<String, String>,
}

impl Lanes {
    /// The harness's lane, then one per program of `outcome`, in order; others (servers
    /// the harness plays, programs known only by their flows) join as they are used.
    fn of(outcome: &Outcome) -> Lanes {
        let mut lanes = Lanes {
            lanes: vec![Lane::Harness],
            commands: HashMap::new(),
        };
        for program in &outcome.programs {
            lanes.index(Lane::Program(program.name.clone()));
            lanes
                .commands
                .insert(program.name.clone(), program.command_line.clone());
        }
        lanes
    }

    fn index(&mut self, lane: Lane) -> usize {
        match self.lanes.iter().position(|known| *known == lane) {
            Some(index) => index,
            None => {
                self.lanes.push(lane);
                self.lanes.len() - 1
            }
        }
    }

    /// The lanes an entry goes between: (sender, receiver).
    fn ends(&mut self, topology: &Topology, entry: &TranscriptEntry) -> (usize, usize) {
        let (sender, receiver) = match topology.routes.get(&entry.connection) {
            Some(route) => (route.sender.clone(), route.receiver.clone()),
            // No flow: between the harness and the first program.
            None => (
                Lane::Harness,
                self.lanes
                    .iter()
                    .find(|lane| matches!(lane, Lane::Program(_)))
                    .cloned()
                    .unwrap_or_else(|| Lane::Program("program".into())),
            ),
        };
        let (sender, receiver) = (self.index(sender), self.index(receiver));
        match entry.direction {
            Direction::ToProgram => (sender, receiver),
            Direction::FromProgram => (receiver, sender),
        }
    }

    fn x(index: usize) -> u32 {
        TIME_COLUMN + HEADER_WIDTH / 2 + 12 + LANE_GAP * index as u32
    }
}

/// One row of the diagram.
enum Row {
    /// Bytes moved.
    Data {
        at: Duration,
        ends: (usize, usize),
        class: &'static str,
        label: String,
        excerpt: String,
        tooltip: String,
    },
    /// A connection event: connected, FIN, RST, closed, an error.
    Event {
        at: Duration,
        ends: (usize, usize),
        class: &'static str,
        label: String,
    },
    /// A pause.
    Pause(Duration),
    /// Entries not drawn.
    More(String),
    /// The scenario's end, when it failed.
    Verdict { at: Duration, text: String },
}

impl Row {
    fn height(&self) -> u32 {
        match self {
            Row::Data { .. } => 40,
            Row::Event { .. } => 26,
            Row::Pause(_) => 18,
            Row::More(_) => 24,
            Row::Verdict { .. } => 30,
        }
    }
}

/// `20480 bytes in 85 writes`.
fn amount(entry: &TranscriptEntry) -> String {
    let calls = match entry.direction {
        Direction::ToProgram => "write",
        Direction::FromProgram => "read",
    };
    let bytes = if entry.bytes == 1 { "byte" } else { "bytes" };
    if entry.pieces == 1 {
        format!("{} {bytes} in 1 {calls}", entry.bytes)
    } else {
        format!("{} {bytes} in {} {calls}s", entry.bytes, entry.pieces)
    }
}

/// A short, quoted excerpt of the first bytes (`…` when there are more).
fn excerpt(entry: &TranscriptEntry) -> String {
    let mut shown = glimpse(&entry.head, EXCERPT_CHARS);
    if entry.bytes > entry.head.len() as u64 && !shown.ends_with('…') {
        shown.push('…');
    }
    shown
}

/// A one-line glimpse of bytes, quoted, for a diagram's arrow: printable ASCII and Latin
/// letters as they are, `\n`, `\r`, `\t`, `\\` and `\"` escaped as in Rust, other
/// characters as `\u{...}` and bytes that are not UTF-8 as `\xNN`, so that binary data
/// cannot draw over itself (combining marks, right-to-left scripts). At most `limit`
/// characters, then `…`.
fn glimpse(bytes: &[u8], limit: usize) -> String {
    let mut text = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => text.push_str("\\n"),
                '\r' => text.push_str("\\r"),
                '\t' => text.push_str("\\t"),
                '\\' | '"' => {
                    text.push('\\');
                    text.push(c);
                }
                ' '..='~' | '\u{a0}'..='\u{2ff}' => text.push(c),
                _ => text.extend(c.escape_unicode()),
            }
        }
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text.push('"');
    if text.chars().count() > limit {
        let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
        cut.push('…');
        return cut;
    }
    text
}

fn event_class(event: &str) -> &'static str {
    let lower = event.to_lowercase();
    if [
        "reset",
        "rst",
        "error",
        "cannot",
        "gone",
        "refused",
        "timed out",
    ]
    .iter()
    .any(|word| lower.contains(word))
    {
        "ev bad"
    } else {
        "ev"
    }
}

fn event_label(event: &str) -> String {
    match event {
        "connected" => "connect".into(),
        "half-closed (FIN)" => "FIN (half-close)".into(),
        "reset (RST)" => "RST (reset)".into(),
        other => other.to_owned(),
    }
}

/// The rows for `entries`, at most `max_rows` of them from the transcript.
fn rows(outcome: &Outcome, lanes: &mut Lanes, max_rows: usize) -> Vec<Row> {
    let topology = Topology::of(outcome);
    let (entries, left_out) = &outcome.transcript;
    let mut rows = Vec::new();
    let mut drawn = 0;
    let mut previous: Option<Duration> = None;
    let mut index = 0;
    while index < entries.len() && drawn < max_rows {
        let entry = &entries[index];
        index += 1;
        if let Some(before) = previous
            && entry.first.saturating_sub(before) >= PAUSE
        {
            rows.push(Row::Pause(entry.first - before));
        }
        previous = Some(entry.last.max(entry.first));
        let ends = lanes.ends(&topology, entry);
        drawn += 1;
        match &entry.event {
            Some(event) => rows.push(Row::Event {
                at: entry.first,
                ends,
                class: event_class(event),
                label: format!("{}: {}", entry.connection, event_label(event)),
            }),
            None => {
                // A datagram is its data and then its end: one arrow.
                let datagram = entries.get(index).is_some_and(|next| {
                    next.event.as_deref() == Some("end of datagram")
                        && next.connection == entry.connection
                        && next.direction == entry.direction
                });
                if datagram {
                    index += 1;
                }
                let sliced = topology.sliced(entry);
                let mut label = if datagram {
                    format!("{}: datagram of {} bytes", entry.connection, entry.bytes)
                } else {
                    format!("{}: {}", entry.connection, amount(entry))
                };
                let lasted = entry.last.saturating_sub(entry.first);
                if lasted >= Duration::from_millis(10) {
                    let _ = write!(label, " over {}s", decimal_seconds(lasted, 2));
                }
                let mut tooltip = format!(
                    "{} from +{}s to +{}s",
                    amount(entry),
                    decimal_seconds(entry.first, 3),
                    decimal_seconds(entry.last, 3)
                );
                if sliced {
                    label.push_str(" ✂");
                    tooltip.push_str(
                        ": cut into pieces on purpose, so the program's recv returns short reads",
                    );
                }
                rows.push(Row::Data {
                    at: entry.first,
                    ends,
                    class: match (sliced, entry.direction) {
                        (true, _) => "to sliced",
                        (false, Direction::ToProgram) => "to",
                        (false, Direction::FromProgram) => "from",
                    },
                    label,
                    excerpt: excerpt(entry),
                    tooltip,
                });
            }
        }
    }
    let not_drawn = entries[index..]
        .iter()
        .filter(|entry| entry.event.as_deref() != Some("end of datagram"))
        .count();
    if not_drawn > 0 || *left_out > 0 {
        let mut text = String::from("…");
        if not_drawn > 0 {
            let _ = write!(text, " {not_drawn} more entries not drawn");
        }
        if *left_out > 0 {
            if not_drawn > 0 {
                text.push(',');
            }
            let _ = write!(text, " {left_out} more not kept by the harness");
        }
        text.push_str(" (the packet capture has every byte)");
        rows.push(Row::More(text));
    }
    let verdict = match (outcome.status, &outcome.failure) {
        (Status::Timeout, _) => Some("TIMEOUT: the scenario's time limit ran out".to_owned()),
        (Status::Fail | Status::Error, Some(failure)) if failure.step > 0 => Some(format!(
            "{}: step {} ({}) did not hold",
            outcome.status.label(),
            failure.step,
            failure.action
        )),
        (Status::Fail | Status::Error, _) => Some(outcome.status.label().to_owned()),
        _ => None,
    };
    if let Some(text) = verdict {
        rows.push(Row::Verdict {
            at: outcome.duration,
            text,
        });
    }
    rows
}

/// A diagram as `templates/sequence.svg` draws it: every position computed here. The
/// page's template includes that one, so these views are the page's too.
pub(super) struct Diagram {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) lanes: Vec<LaneView>,
    pub(super) rows: Vec<Drawn>,
}

/// A lifeline: its header box, its name, its dashed line down.
pub(super) struct LaneView {
    /// `lane h` (the harness) or `lane p` (a program).
    pub(super) class: &'static str,
    /// A program's command line; who the harness plays.
    pub(super) tooltip: String,
    pub(super) name: String,
    /// The header box's left edge and width.
    pub(super) left: u32,
    pub(super) width: u32,
    pub(super) center: u32,
    /// Where the line down ends.
    pub(super) bottom: u32,
}

/// A row, placed.
pub(super) enum Drawn {
    Data(DataRow),
    Event(EventRow),
    Pause(PauseRow),
    More(MoreRow),
    Verdict(VerdictRow),
}

/// A row's time, right-aligned in the left margin: `+0.012s`.
pub(super) struct Time {
    pub(super) x: u32,
    pub(super) y: u32,
    /// Seconds since the scenario began, three decimals.
    pub(super) at: String,
}

/// Bytes moved: a label over an arrow, an excerpt under the label.
pub(super) struct DataRow {
    pub(super) class: &'static str,
    pub(super) tooltip: String,
    pub(super) time: Time,
    /// Between the two lifelines, where the texts are centred.
    pub(super) middle: u32,
    pub(super) label_y: u32,
    pub(super) label: String,
    pub(super) excerpt_y: u32,
    pub(super) excerpt: String,
    pub(super) arrow: Arrow,
}

/// A connection event: a dot on the sender's lifeline, an arrow, a label.
pub(super) struct EventRow {
    pub(super) class: &'static str,
    pub(super) time: Time,
    pub(super) middle: u32,
    pub(super) label_y: u32,
    pub(super) label: String,
    /// The dot.
    pub(super) from: u32,
    pub(super) line: u32,
    pub(super) arrow: Arrow,
}

/// `⋮ 0.50s later`.
pub(super) struct PauseRow {
    pub(super) x: u32,
    pub(super) y: u32,
    pub(super) pause: String,
}

/// Entries not drawn.
pub(super) struct MoreRow {
    pub(super) x: u32,
    pub(super) y: u32,
    pub(super) text: String,
}

/// The scenario's end, when it failed: a red line across.
pub(super) struct VerdictRow {
    pub(super) time: Time,
    pub(super) x1: u32,
    pub(super) x2: u32,
    pub(super) line: u32,
    pub(super) text_x: u32,
    pub(super) text_y: u32,
    pub(super) text: String,
}

/// A horizontal arrow: its shaft from `x1` to `back`, its head from `back` to `tip`, at
/// height `y` (the head `up` to `down`).
pub(super) struct Arrow {
    pub(super) x1: i64,
    pub(super) back: i64,
    pub(super) tip: i64,
    pub(super) y: u32,
    pub(super) up: u32,
    pub(super) down: u32,
}

impl Arrow {
    /// From `from` to `to` at height `y`, its head at `to`.
    fn new(from: u32, to: u32, y: u32) -> Arrow {
        let (from, to) = (from as i64, to as i64);
        let toward = if to >= from { 1 } else { -1 };
        // Stop short of the lifeline, so the head touches it.
        let tip = to - toward * 2;
        let back = tip - toward * 9;
        Arrow {
            x1: from + toward * 4,
            back,
            tip,
            y,
            up: y - 4,
            down: y + 4,
        }
    }
}

impl Time {
    fn new(at: Duration, y: u32) -> Time {
        Time {
            x: TIME_COLUMN - 6,
            y,
            at: decimal_seconds(at, 3),
        }
    }
}

/// The diagram of `outcome`'s transcript, or `None` when nothing moved.
pub(super) fn diagram(outcome: &Outcome, max_rows: usize) -> Option<Diagram> {
    if outcome.transcript.0.is_empty() {
        return None;
    }
    let mut lanes = Lanes::of(outcome);
    let rows = rows(outcome, &mut lanes, max_rows);
    // The harness lane stays only if something uses it.
    let harness_used = rows.iter().any(|row| match row {
        Row::Data { ends, .. } | Row::Event { ends, .. } => ends.0 == 0 || ends.1 == 0,
        _ => false,
    });
    let shift = usize::from(!harness_used);
    let shown: Vec<&Lane> = lanes.lanes.iter().skip(shift).collect();
    let x = |index: usize| Lanes::x(index - shift);

    let top = 52;
    let height = top + rows.iter().map(Row::height).sum::<u32>() + 12;
    let width = Lanes::x(shown.len().saturating_sub(1)) + HEADER_WIDTH / 2 + 24;
    let lane_views = shown
        .iter()
        .enumerate()
        .map(|(index, lane)| {
            let center = Lanes::x(index);
            let (name, class, tooltip) = match lane {
                Lane::Harness => (
                    "harness".to_owned(),
                    "lane h",
                    "the harness: its clients and datagram senders".to_owned(),
                ),
                Lane::Program(name) => (
                    name.clone(),
                    "lane p",
                    lanes
                        .commands
                        .get(name)
                        .map_or_else(|| "a program".to_owned(), |command| command.clone()),
                ),
                Lane::Server(name) => (
                    format!("harness as {name}"),
                    "lane h",
                    format!("the harness playing the server `{name}`"),
                ),
            };
            LaneView {
                class,
                tooltip,
                name,
                left: center - HEADER_WIDTH / 2,
                width: HEADER_WIDTH,
                center,
                bottom: height - 6,
            }
        })
        .collect();
    let mut y = top;
    let mut drawn = Vec::with_capacity(rows.len());
    for row in rows {
        let height = row.height();
        drawn.push(match row {
            Row::Data {
                at,
                ends,
                class,
                label,
                excerpt,
                tooltip,
            } => {
                let (from, to) = (x(ends.0), x(ends.1));
                let line = y + 31;
                Drawn::Data(DataRow {
                    class,
                    tooltip,
                    time: Time::new(at, line + 4),
                    middle: (from + to) / 2,
                    label_y: y + 12,
                    label,
                    excerpt_y: y + 25,
                    excerpt,
                    arrow: Arrow::new(from, to, line),
                })
            }
            Row::Event {
                at,
                ends,
                class,
                label,
            } => {
                let (from, to) = (x(ends.0), x(ends.1));
                let line = y + 18;
                Drawn::Event(EventRow {
                    class,
                    time: Time::new(at, line + 4),
                    middle: (from + to) / 2,
                    label_y: y + 12,
                    label,
                    from,
                    line,
                    arrow: Arrow::new(from, to, line),
                })
            }
            Row::Pause(pause) => Drawn::Pause(PauseRow {
                x: TIME_COLUMN - 6,
                y: y + 12,
                pause: decimal_seconds(pause, 2),
            }),
            Row::More(text) => Drawn::More(MoreRow {
                x: TIME_COLUMN,
                y: y + 16,
                text,
            }),
            Row::Verdict { at, text } => {
                let line = y + 20;
                Drawn::Verdict(VerdictRow {
                    time: Time::new(at, line + 4),
                    x1: TIME_COLUMN,
                    x2: width - 8,
                    line,
                    text_x: TIME_COLUMN + 4,
                    text_y: line - 5,
                    text,
                })
            }
        });
        y += height;
    }
    Some(Diagram {
        width,
        height,
        lanes: lane_views,
        rows: drawn,
    })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use run_record::outcome::{LogLine, ProgramReport};

    /// A diagram as the page draws it.
    #[derive(askama::Template)]
    #[template(source = "{% include \"sequence.svg\" %}", ext = "svg")]
    struct Svg<'a> {
        diagram: &'a Diagram,
    }

    fn svg(outcome: &Outcome, max_rows: usize) -> String {
        let diagram = diagram(outcome, max_rows).expect("something moved");
        askama::Template::render(&Svg { diagram: &diagram }).unwrap()
    }

    fn address(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A program's end of a flow, as the engine names it.
    fn program(name: &str) -> FlowEnd {
        FlowEnd {
            name: name.into(),
            address: address(5000),
            program: true,
        }
    }

    fn harness(name: &str) -> FlowEnd {
        FlowEnd::harness(name, address(40000))
    }

    /// A harness client (`connect`, `send_datagram`) talking to `to`.
    fn client(label: &str, protocol: Protocol, to: &str) -> Flow {
        Flow::opened_by_harness(label, protocol, harness(label), program(to))
    }

    /// A program connected to the server `peer` the harness plays.
    fn served(label: &str, peer: &str, by: &str) -> Flow {
        Flow::opened_by_program(label, Protocol::Tcp, program(by), harness(peer))
    }

    /// A relayed connection's two legs, as the relay registers them (`slices`: its plan
    /// cuts what it forwards).
    fn relayed(label: &str, relay: &str, client: &str, server: &str, slices: bool) -> [Flow; 2] {
        [
            Flow {
                to_program_from: Side::Client,
                ..Flow::opened_by_program(label, Protocol::Tcp, program(client), harness(relay))
            },
            Flow {
                relay_slices: Some(slices),
                ..Flow::opened_by_harness(label, Protocol::Tcp, harness(relay), program(server))
            },
        ]
    }

    fn scenario(programs: &[&str], flows: Vec<Flow>, log: &[String]) -> Outcome {
        let mut outcome = Outcome::blank("message/01-x");
        outcome.programs = programs
            .iter()
            .map(|name| ProgramReport {
                name: name.to_string(),
                command_line: format!("python3 {name}.py"),
                stdout: (Vec::new(), 0),
                stderr: (Vec::new(), 0),
                exit: None,
                ..ProgramReport::default()
            })
            .collect();
        outcome.wire.flows = flows;
        outcome.log = log
            .iter()
            .map(|text| LogLine {
                at: Duration::ZERO,
                text: text.clone(),
            })
            .collect();
        outcome
    }

    fn entry(connection: &str, direction: Direction) -> TranscriptEntry {
        TranscriptEntry {
            connection: connection.into(),
            direction,
            first: Duration::ZERO,
            last: Duration::ZERO,
            bytes: 1,
            pieces: 1,
            head: b"x".to_vec(),
            event: None,
        }
    }

    fn data(connection: &str, bytes: u64, pieces: u64) -> TranscriptEntry {
        TranscriptEntry {
            bytes,
            pieces,
            ..entry(connection, Direction::ToProgram)
        }
    }

    #[test]
    fn a_glimpse_of_binary_bytes_is_plain_ascii() {
        assert_eq!(
            glimpse(b"GET / HTTP/1.1\r\n", 40),
            r#""GET / HTTP/1.1\r\n""#
        );
        // Latin letters shown; Hebrew and a combining accent would draw over their
        // neighbours.
        assert_eq!(
            glimpse("\u{e1}\u{5d0}\u{301}".as_bytes(), 40),
            "\"\u{e1}\\u{5d0}\\u{301}\""
        );
        assert_eq!(glimpse(b"\xe1\x32", 40), r#""\xe12""#);
        assert_eq!(glimpse(b"abcdefgh", 6), "\"abcd…");
    }

    #[test]
    fn a_relayed_connection_goes_from_the_client_program_to_the_server_program() {
        let outcome = scenario(
            &["server", "client"],
            relayed("relay#1", "relay", "client", "server", false).into(),
            &[],
        );
        let topology = Topology::of(&outcome);
        let mut lanes = Lanes::of(&outcome);
        assert_eq!(
            lanes.ends(&topology, &entry("relay#1", Direction::ToProgram)),
            (2, 1)
        );
        assert_eq!(
            lanes.ends(&topology, &entry("relay#1", Direction::FromProgram)),
            (1, 2)
        );
        assert_eq!(lanes.lanes.len(), 3, "no lane for the relay itself");
        // It forwards each read as it came: several writes, none cut on purpose.
        assert!(!topology.sliced(&data("relay#1", 20480, 5)));
    }

    fn outcome_with(entries: Vec<TranscriptEntry>, status: Status) -> Outcome {
        let mut outcome = scenario(
            &["server"],
            vec![client("c1", Protocol::Tcp, "server")],
            &[],
        );
        outcome.status = status;
        outcome.duration = Duration::from_secs(30);
        outcome.transcript = (entries, 7);
        outcome
    }

    #[test]
    fn resets_and_timeouts_are_drawn_in_red() {
        let mut reset = entry("c1", Direction::ToProgram);
        reset.event = Some("reset (RST)".into());
        let svg = svg(
            &outcome_with(
                vec![entry("c1", Direction::ToProgram), reset],
                Status::Timeout,
            ),
            200,
        );
        assert!(svg.contains(r#"<g class="ev bad">"#), "{svg}");
        assert!(svg.contains("c1: RST (reset)"), "{svg}");
        assert!(
            svg.contains("✗ TIMEOUT: the scenario&#39;s time limit ran out"),
            "{svg}"
        );
        assert!(
            svg.contains("+30.000s"),
            "the verdict at the scenario's end: {svg}"
        );
    }

    #[test]
    fn a_long_transcript_is_cut_and_says_how_much_is_left() {
        let entries = (0..250)
            .map(|_| entry("c1", Direction::ToProgram))
            .collect();
        let svg = svg(&outcome_with(entries, Status::Pass), 200);
        assert_eq!(svg.matches("<path").count(), 200);
        assert!(
            svg.contains("… 50 more entries not drawn, 7 more not kept by the harness"),
            "{svg}"
        );
    }

    #[test]
    fn only_the_harnesss_own_extra_writes_count_as_cut_on_purpose() {
        let mut flows = vec![
            client("c1", Protocol::Tcp, "server"),
            client("c2", Protocol::Tcp, "server"),
            served("mta#1", "mta", "client"),
        ];
        flows.extend(relayed("slow#2", "slow", "client", "server", true));
        flows.extend(relayed("relay#1", "relay", "client", "server", false));
        let topology = Topology::of(&scenario(&["server", "client"], flows, &[]));
        // A harness client in 1-byte slices; a mail server answering a byte per segment.
        assert!(topology.sliced(&data("c1", 1000, 1000)));
        assert!(topology.sliced(&data("mta#1", 30, 30)));
        // Whole writes: 64 KiB each, as many as the bytes need.
        assert!(!topology.sliced(&data("c2", 21, 1)));
        assert!(!topology.sliced(&data("c2", 200_000, 4)));
        assert!(topology.sliced(&data("c2", 200_000, 5)));
        // What the program sends, and events, are never the harness's cuts.
        let mut read = data("c1", 1000, 1000);
        read.direction = Direction::FromProgram;
        assert!(!topology.sliced(&read));
        let mut event = data("c1", 0, 2);
        event.event = Some("closed".into());
        assert!(!topology.sliced(&event));
        // A slicing relay's writes are the harness's; a whole-write relay passes on the
        // client program's own pieces.
        assert!(topology.sliced(&data("slow#2", 20480, 300)));
        assert!(!topology.sliced(&data("relay#1", 20480, 300)));
        // No flow: several writes count as cut.
        assert!(!topology.sliced(&data("pinger", 1, 1)));
        assert!(topology.sliced(&data("pinger", 2, 2)));
    }

    #[test]
    fn a_relay_is_taken_for_slicing_unless_its_flow_says_whole_writes() {
        let sliced = |flows: Vec<Flow>| {
            Topology::of(&scenario(&["server", "client"], flows, &[]))
                .sliced(&data("relay#1", 20480, 300))
        };
        assert!(!sliced(
            relayed("relay#1", "relay", "client", "server", false).into()
        ));
        assert!(sliced(
            relayed("relay#1", "relay", "client", "server", true).into()
        ));
        // A recording from before relays said: their writes are the harness's.
        let mut unknown: Vec<Flow> = relayed("relay#1", "relay", "client", "server", false).into();
        unknown[1].relay_slices = None;
        assert!(sliced(unknown));
    }

    #[test]
    fn a_harness_server_gets_a_lane_of_its_own_on_the_right() {
        let outcome = scenario(&["client"], vec![served("mta#1", "mta", "client")], &[]);
        let topology = Topology::of(&outcome);
        let mut lanes = Lanes::of(&outcome);
        assert_eq!(
            lanes.ends(&topology, &entry("mta#1", Direction::FromProgram)),
            (1, 2)
        );
        assert_eq!(
            lanes.ends(&topology, &entry("mta#1", Direction::ToProgram)),
            (2, 1)
        );
        assert_eq!(lanes.lanes[2], Lane::Server("mta".into()));
    }

    #[test]
    fn harness_clients_talk_to_the_program_they_connected_to() {
        let outcome = scenario(
            &["first", "second"],
            vec![
                client("c1", Protocol::Tcp, "second"),
                client("d1", Protocol::Udp, "first"),
            ],
            &[],
        );
        let topology = Topology::of(&outcome);
        let mut lanes = Lanes::of(&outcome);
        assert_eq!(
            lanes.ends(&topology, &entry("c1", Direction::ToProgram)),
            (0, 2)
        );
        assert_eq!(
            lanes.ends(&topology, &entry("d1", Direction::FromProgram)),
            (1, 0)
        );
        // No flow: between the harness and the first program.
        assert_eq!(
            lanes.ends(&topology, &entry("pinger", Direction::ToProgram)),
            (0, 1)
        );
        assert_eq!(lanes.lanes.len(), 3);
    }

    #[test]
    fn program_ends_the_engine_could_not_name_are_the_first_program() {
        // A proxy fetching from the harness's origin: nobody was pointed at the origin.
        let mut flows = vec![
            client("c1", Protocol::Tcp, "proxy"),
            served("origin#1", "origin", "client program"),
        ];
        // A UDP server peer: one flow per program socket that wrote to it.
        flows.push(Flow::opened_by_program(
            "echo",
            Protocol::Udp,
            program("client"),
            harness("echo"),
        ));
        flows.push(Flow::opened_by_program(
            "echo",
            Protocol::Udp,
            FlowEnd {
                address: address(5001),
                ..program("client")
            },
            harness("echo"),
        ));
        // Two programs pointed at one peer: the engine cannot tell which connected.
        flows.push(served("mta#1", "mta", "client or client2"));
        let outcome = scenario(&["proxy", "client", "client2"], flows, &[]);
        let topology = Topology::of(&outcome);
        let mut lanes = Lanes::of(&outcome);
        let to = |name: &str| entry(name, Direction::ToProgram);
        assert_eq!(lanes.ends(&topology, &to("c1")), (0, 1));
        assert_eq!(lanes.ends(&topology, &to("origin#1")), (4, 1));
        assert_eq!(lanes.ends(&topology, &to("echo")), (5, 2));
        assert_eq!(lanes.ends(&topology, &to("mta#1")), (6, 7));
        assert_eq!(
            lanes.lanes[4..],
            [
                Lane::Server("origin".into()),
                Lane::Server("echo".into()),
                Lane::Server("mta".into()),
                Lane::Program("client or client2".into()),
            ]
        );
    }

    #[test]
    fn the_diagram_names_the_lanes_from_the_flows() {
        let mut outcome = scenario(
            &["server", "client"],
            relayed("relay#1", "relay", "client", "server", true).into(),
            &[],
        );
        outcome.transcript = (vec![data("relay#1", 20480, 40)], 0);
        let svg = svg(&outcome, 200);
        // Only the programs: the harness's own lane is not used.
        assert!(!svg.contains(">harness<"), "{svg}");
        assert!(
            svg.contains("<title>python3 server.py</title>")
                && svg.contains("<title>python3 client.py</title>"),
            "{svg}"
        );
        // From the client (second lane) to the server (first), cut by the relay.
        assert!(svg.contains(r#"<g class="to sliced">"#), "{svg}");
        assert!(svg.contains("relay#1: 20480 bytes in 40 writes ✂"), "{svg}");
        let (from, to) = (Lanes::x(1), Lanes::x(0));
        assert!(
            svg.contains(&format!(r#"<line x1="{}""#, from - 4)),
            "the arrow leaves the client at {from} toward {to}: {svg}"
        );
    }
}
