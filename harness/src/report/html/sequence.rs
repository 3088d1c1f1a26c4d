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
//! server, on the right). Who is on each end of a connection is read from the step log
//! ("connect to server as c1", "relay relay in front of server", "start client pointed at
//! relay"); a connection the log does not name goes between the harness and the first
//! program. Arrows pointing at a program carry what the harness (or, through a relay, the
//! submission's other program) sent it; arrows leaving a program carry what it sent.
//!
//! Faults show: data the harness cut into several writes (short reads forced on the
//! program) is orange and marked ✂; resets and errors are red; a timeout or a failed step
//! closes the diagram with a red line. Rows are evenly spaced; pauses longer than
//! [`PAUSE`] get a row of their own. At most `max_rows` entries are drawn, and the diagram
//! says how many more there were.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::Esc;
use crate::engine::{LogLine, Outcome, Status};
use crate::peers::{Direction, TranscriptEntry};

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

/// Who is on each end of a scenario's connections, read from its step log.
#[derive(Debug, Default)]
struct Topology {
    /// A harness client (`connect`, `send_datagram`) and what it talks to.
    clients: HashMap<String, String>,
    /// A relay and what it forwards to.
    relays: HashMap<String, String>,
    /// The servers the harness plays (`listen`), in order.
    servers: Vec<String>,
    /// A relay or harness server, and the program started pointed at it.
    pointed: HashMap<String, String>,
    /// Clients, relays and servers whose writes the harness cuts on purpose.
    sliced: HashSet<String>,
}

static CONNECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:connect to|send one datagram to) (\S+) as (\S+?)[,:]").expect("valid")
});
static RELAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^relay (\S+) in front of (\S+?),").expect("valid"));
static LISTEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^listen as (\S+) \(").expect("valid"));
static START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^start (\S+)(?: with `[^`]*`)?(?: as (\S+))?(?: on a port already in use)?(?: pointed at (\S+))?$")
        .expect("valid")
});

impl Topology {
    /// Reads the `step N: ...` lines of the log (see `Action::describe`).
    fn of(log: &[LogLine]) -> Topology {
        let mut topology = Topology::default();
        for line in log {
            let Some(action) = line
                .text
                .strip_prefix("step ")
                .and_then(|rest| rest.split_once(": "))
                .map(|(_, action)| action)
            else {
                continue;
            };
            if let Some(found) = CONNECT.captures(action) {
                topology
                    .clients
                    .insert(found[2].to_owned(), found[1].to_owned());
                if action.starts_with("connect") && !action.contains(" in whole writes, then ") {
                    topology.sliced.insert(found[2].to_owned());
                }
            } else if let Some(found) = RELAY.captures(action) {
                topology
                    .relays
                    .insert(found[1].to_owned(), found[2].to_owned());
                if !action.ends_with(" in whole writes") {
                    topology.sliced.insert(found[1].to_owned());
                }
            } else if let Some(found) = LISTEN.captures(action) {
                topology.servers.push(found[1].to_owned());
                if action.contains("one byte per segment") {
                    topology.sliced.insert(found[1].to_owned());
                }
            } else if let Some(found) = START.captures(action) {
                let name = found.get(2).unwrap_or_else(|| found.get(1).expect("role"));
                if let Some(target) = found.get(3) {
                    topology
                        .pointed
                        .insert(target.as_str().to_owned(), name.as_str().to_owned());
                }
            }
        }
        topology
    }

    /// Whether the harness cut `entry` into pieces on purpose: its connection's slice plan
    /// says so (a connection the log does not name: whenever it took several writes).
    fn sliced(&self, entry: &TranscriptEntry) -> bool {
        let base = entry
            .connection
            .split_once('#')
            .map_or(entry.connection.as_str(), |(base, _)| base);
        let known = self.clients.contains_key(base)
            || self.relays.contains_key(base)
            || self.servers.iter().any(|server| server == base);
        entry.direction == Direction::ToProgram
            && if known {
                self.sliced.contains(base)
            } else {
                entry.pieces > 1
            }
    }

    /// A name behind relays: what `name` finally reaches.
    fn through_relays<'a>(&'a self, mut name: &'a str) -> &'a str {
        for _ in 0..8 {
            match self.relays.get(name) {
                Some(next) => name = next,
                None => break,
            }
        }
        name
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
        let base = entry
            .connection
            .split_once('#')
            .map_or(entry.connection.as_str(), |(base, _)| base);
        let fallback = || match self
            .lanes
            .iter()
            .find(|lane| matches!(lane, Lane::Program(_)))
        {
            Some(lane) => lane.clone(),
            None => Lane::Program("program".into()),
        };
        let (outside, program) = if let Some(target) = topology.clients.get(base) {
            (
                Lane::Harness,
                Lane::Program(topology.through_relays(target).to_owned()),
            )
        } else if topology.servers.iter().any(|server| server == base) {
            let client = topology
                .pointed
                .get(base)
                .map_or_else(fallback, |name| Lane::Program(name.clone()));
            (Lane::Server(base.to_owned()), client)
        } else if let Some(target) = topology.relays.get(base) {
            // Through a relay: the program pointed at it talks to the relay's target.
            let client = topology
                .pointed
                .get(base)
                .map_or(Lane::Harness, |name| Lane::Program(name.clone()));
            (
                client,
                Lane::Program(topology.through_relays(target).to_owned()),
            )
        } else {
            (Lane::Harness, fallback())
        };
        let (outside, program) = (self.index(outside), self.index(program));
        match entry.direction {
            Direction::ToProgram => (outside, program),
            Direction::FromProgram => (program, outside),
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
    let mut shown = super::glimpse(&entry.head, EXCERPT_CHARS);
    if entry.bytes > entry.head.len() as u64 && !shown.ends_with('…') {
        shown.push('…');
    }
    shown
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
    let topology = Topology::of(&outcome.log);
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
                    let _ = write!(label, " over {:.2}s", lasted.as_secs_f64());
                }
                let mut tooltip = format!(
                    "{} from +{:.3}s to +{:.3}s",
                    amount(entry),
                    entry.first.as_secs_f64(),
                    entry.last.as_secs_f64()
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

/// The diagram of `outcome`'s transcript, or `None` when nothing moved.
pub(super) fn diagram(outcome: &Outcome, max_rows: usize) -> Option<String> {
    if outcome.transcript.0.is_empty() {
        return None;
    }
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
    let mut svg = String::with_capacity(256 + rows.len() * 420);
    let _ = write!(
        svg,
        r#"<svg class="seq" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="sequence diagram">"#
    );
    for (index, lane) in shown.iter().enumerate() {
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
        let _ = write!(
            svg,
            r#"<g class="{class}"><title>{}</title><rect x="{}" y="6" width="{HEADER_WIDTH}" height="28" rx="5"/><text x="{center}" y="25">{}</text><line x1="{center}" y1="34" x2="{center}" y2="{}"/></g>"#,
            Esc(&tooltip),
            center - HEADER_WIDTH / 2,
            Esc(&name),
            height - 6
        );
    }
    let mut y = top;
    for row in &rows {
        match row {
            Row::Data {
                at,
                ends,
                class,
                label,
                excerpt,
                tooltip,
            } => {
                let (from, to) = (x(ends.0), x(ends.1));
                let middle = (from + to) / 2;
                let line = y + 31;
                let _ = write!(
                    svg,
                    r#"<g class="{class}"><title>{}</title><text class="t" x="{}" y="{}">+{:.3}s</text><text x="{middle}" y="{}">{}</text><text class="x" x="{middle}" y="{}">{}</text>{}</g>"#,
                    Esc(tooltip),
                    TIME_COLUMN - 6,
                    line + 4,
                    at.as_secs_f64(),
                    y + 12,
                    Esc(label),
                    y + 25,
                    Esc(excerpt),
                    arrow(from, to, line)
                );
            }
            Row::Event {
                at,
                ends,
                class,
                label,
            } => {
                let (from, to) = (x(ends.0), x(ends.1));
                let middle = (from + to) / 2;
                let line = y + 18;
                let _ = write!(
                    svg,
                    r#"<g class="{class}"><text class="t" x="{}" y="{}">+{:.3}s</text><text x="{middle}" y="{}">{}</text><circle cx="{from}" cy="{line}" r="3.5"/>{}</g>"#,
                    TIME_COLUMN - 6,
                    line + 4,
                    at.as_secs_f64(),
                    y + 12,
                    Esc(label),
                    arrow(from, to, line)
                );
            }
            Row::Pause(pause) => {
                let _ = write!(
                    svg,
                    r#"<text class="pause" x="{}" y="{}">⋮ {:.2}s later</text>"#,
                    TIME_COLUMN - 6,
                    y + 12,
                    pause.as_secs_f64()
                );
            }
            Row::More(text) => {
                let _ = write!(
                    svg,
                    r#"<text class="more" x="{}" y="{}">{}</text>"#,
                    TIME_COLUMN,
                    y + 16,
                    Esc(text)
                );
            }
            Row::Verdict { at, text } => {
                let line = y + 20;
                let _ = write!(
                    svg,
                    r#"<g class="verdict"><text class="t" x="{}" y="{}">+{:.3}s</text><line x1="{}" y1="{line}" x2="{}" y2="{line}"/><text x="{}" y="{}">✗ {}</text></g>"#,
                    TIME_COLUMN - 6,
                    line + 4,
                    at.as_secs_f64(),
                    TIME_COLUMN,
                    width - 8,
                    TIME_COLUMN + 4,
                    line - 5,
                    Esc(text)
                );
            }
        }
        y += row.height();
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// A horizontal arrow from `from` to `to` at height `y`, its head at `to`.
fn arrow(from: u32, to: u32, y: u32) -> String {
    let (from, to) = (from as i64, to as i64);
    let toward = if to >= from { 1 } else { -1 };
    // Stop short of the lifeline, so the head touches it.
    let tip = to - toward * 2;
    let back = tip - toward * 9;
    format!(
        r#"<line x1="{}" y1="{y}" x2="{back}" y2="{y}"/><path d="M{tip} {y}L{back} {}L{back} {}Z"/>"#,
        from + toward * 4,
        y - 4,
        y + 4
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> Vec<LogLine> {
        lines
            .iter()
            .map(|text| LogLine {
                at: Duration::ZERO,
                text: text.to_string(),
            })
            .collect()
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

    fn lanes(programs: &[&str]) -> Lanes {
        Lanes {
            lanes: std::iter::once(Lane::Harness)
                .chain(programs.iter().map(|name| Lane::Program(name.to_string())))
                .collect(),
            commands: HashMap::new(),
        }
    }

    #[test]
    fn a_relayed_connection_goes_from_the_client_program_to_the_server_program() {
        let topology = Topology::of(&log(&[
            "step 1: start server",
            "step 3: relay relay in front of server, forwarding in whole writes",
            "step 4: start client pointed at relay",
        ]));
        let mut lanes = lanes(&["server", "client"]);
        assert_eq!(
            lanes.ends(&topology, &entry("relay#1", Direction::ToProgram)),
            (2, 1)
        );
        assert_eq!(
            lanes.ends(&topology, &entry("relay#1", Direction::FromProgram)),
            (1, 2)
        );
        // It forwards each read as it came: several writes, none cut on purpose.
        let mut forwarded = entry("relay#1", Direction::ToProgram);
        forwarded.pieces = 5;
        assert!(!topology.sliced(&forwarded));
    }

    fn outcome_with(entries: Vec<TranscriptEntry>, status: Status) -> Outcome {
        let mut outcome = Outcome::blank("message/01-x");
        outcome.status = status;
        outcome.duration = Duration::from_secs(30);
        outcome.log = log(&[
            "step 1: start server",
            "step 2: connect to server as c1, send 3 literal bytes in whole writes, then reset",
        ]);
        outcome.transcript = (entries, 7);
        outcome
    }

    #[test]
    fn resets_and_timeouts_are_drawn_in_red() {
        let mut reset = entry("c1", Direction::ToProgram);
        reset.event = Some("reset (RST)".into());
        let svg = diagram(
            &outcome_with(
                vec![entry("c1", Direction::ToProgram), reset],
                Status::Timeout,
            ),
            200,
        )
        .unwrap();
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
        let svg = diagram(&outcome_with(entries, Status::Pass), 200).unwrap();
        assert_eq!(svg.matches("<path").count(), 200);
        assert!(
            svg.contains("… 50 more entries not drawn, 7 more not kept by the harness"),
            "{svg}"
        );
    }

    #[test]
    fn only_slice_plans_count_as_cut_on_purpose() {
        let topology = Topology::of(&log(&[
            "step 3: connect to server as c1, send 1000 bytes of generated text (seed 4) in 1-byte slices, 1 ms apart, then half-close",
            "step 4: connect to server as c2, send 21 literal bytes in whole writes, then half-close",
            "step 5: relay slow in front of server, forwarding in slices of 1-512 bytes, 0-1 ms apart",
            "step 6: listen as mta (TCP), playing a mail server; every reply one byte per segment",
        ]));
        let to = |name: &str| entry(name, Direction::ToProgram);
        assert!(topology.sliced(&to("c1")) && topology.sliced(&to("slow#2")));
        assert!(topology.sliced(&to("mta#1")));
        assert!(!topology.sliced(&to("c2")));
        assert!(!topology.sliced(&entry("c1", Direction::FromProgram)));
        // Not in the log: several writes count as cut.
        let mut unknown = to("pinger");
        assert!(!topology.sliced(&unknown));
        unknown.pieces = 2;
        assert!(topology.sliced(&unknown));
    }

    #[test]
    fn a_harness_server_gets_a_lane_of_its_own_on_the_right() {
        let topology = Topology::of(&log(&[
            "step 1: listen as mta (TCP), playing a mail server",
            "step 2: start client with `--from a@b --to c@d --subject Lab report as x` pointed at mta",
        ]));
        let mut lanes = lanes(&["client"]);
        assert_eq!(
            lanes.ends(&topology, &entry("mta#1", Direction::FromProgram)),
            (1, 2)
        );
        assert_eq!(lanes.lanes[2], Lane::Server("mta".into()));
    }

    #[test]
    fn harness_clients_talk_to_the_program_they_connected_to() {
        let topology = Topology::of(&log(&[
            "step 1: start server as first",
            "step 2: start server as second",
            "step 3: connect to second as c1, send 3 literal bytes in whole writes, then half-close",
            "step 4: send one datagram to first as d1: 3 literal bytes",
        ]));
        let mut lanes = lanes(&["first", "second"]);
        assert_eq!(
            lanes.ends(&topology, &entry("c1", Direction::ToProgram)),
            (0, 2)
        );
        assert_eq!(
            lanes.ends(&topology, &entry("d1", Direction::FromProgram)),
            (1, 0)
        );
        // Unknown to the log: between the harness and the first program.
        assert_eq!(
            lanes.ends(&topology, &entry("pinger", Direction::ToProgram)),
            (0, 1)
        );
    }
}
