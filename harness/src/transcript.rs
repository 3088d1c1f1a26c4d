//! What moved on every connection, with timings, for the report.
//!
//! Consecutive pieces of one connection in one direction are merged into one entry that
//! counts them, so a 20 KB message sent one byte at a time is one line ("20480 bytes in
//! 20480 writes"), not 20480. Each entry keeps the first bytes for display; the number of
//! entries is capped, so memory stays bounded whatever a scenario moves.
//!
//! The same calls feed the scenario's [`Wire`], what its packet capture is synthesized
//! from (see [`crate::pcap`]): every byte up to a budget, each connection's flow (its
//! addresses, who connected, which end is the program) and its typed events (open, FIN,
//! close, RST, datagram). Peers register a connection's flow when it opens
//! ([`Transcript::opened`], [`Transcript::flow`]) and end it with [`Transcript::fin`],
//! [`Transcript::closed`] or [`Transcript::reset`]; the report shows the same text
//! either way, [`Transcript::event`] being for what is only said, not done on the wire.
//!
//! The entries and the wire are part of the run's record (`run_record::transcript`,
//! `run_record::wire`); this module is the writer the peers share while a scenario runs.

pub use run_record::transcript::*;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// tokio's clock: simulated time in the simulated world.
use tokio::time::Instant;

use crate::wire::{
    Flow, FlowEnd, FlowId, PAYLOAD_BUDGET, Protocol, WireAct, WireBytes, WireRecord,
};

/// Bytes kept per entry for display.
const HEAD_BYTES: usize = 48;
/// Entries kept per transcript; later ones are only counted.
const MAX_ENTRIES: usize = 400;
/// Records the wire keeps one by one; past them, a stream's bytes join its last record (its
/// packets then stand for several writes) and datagrams are only counted.
const MAX_RECORDS: usize = 100_000;

/// `duration` cut to whole microseconds, as the wire is recorded (`--record`), so that a
/// replayed recording writes the same capture.
fn whole_micros(duration: Duration) -> Duration {
    Duration::from_micros(duration.as_micros() as u64)
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    entries: Vec<TranscriptEntry>,
    dropped: u64,
    wire: Wire,
    /// Payload bytes the wire keeps.
    kept: u64,
    /// The last data record of each connection, each way (to the program, from it): past
    /// [`MAX_RECORDS`], more bytes join it.
    last_data: HashMap<String, [Option<usize>; 2]>,
    /// The program each harness peer talks to (`c1` → `server`), as the engine says.
    programs: BTreeMap<String, String>,
    /// The programs pointed at each harness peer (`relay` ← `client`).
    clients: BTreeMap<String, Vec<String>>,
}

/// A scenario's transcript, shared by its peers and relays.
#[derive(Debug, Clone)]
pub struct Transcript {
    inner: Arc<Mutex<Inner>>,
    /// The actions its peers have under way that they will finish by themselves, without
    /// waiting for a program: a pause between slices, a reply held back, a late answer to
    /// a ping. Until they have, a program may still be woken (`engine::stillness`). Carried
    /// here because every peer has the transcript.
    pending: crate::tally::Tally,
}

impl Transcript {
    /// An empty transcript whose clock starts at `started`.
    pub fn new(started: Instant) -> Transcript {
        // The wall clock at `started`: the simulation's own inside turmoil (a fixed epoch
        // plus simulated time, so captures replay byte for byte), else this machine's.
        let now = turmoil::since_epoch().unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
        });
        Transcript {
            inner: Arc::new(Mutex::new(Inner {
                started,
                entries: Vec::new(),
                dropped: 0,
                wire: Wire {
                    started: whole_micros(now.saturating_sub(started.elapsed())),
                    ..Wire::default()
                },
                kept: 0,
                last_data: HashMap::new(),
                programs: BTreeMap::new(),
                clients: BTreeMap::new(),
            })),
            pending: crate::tally::Tally::default(),
        }
    }

    /// The peers' actions under way: a peer holds one (`pending().hold()`) for as long as
    /// it has something to send without waiting for a program; one waiting for a program
    /// (reading, accepting) holds none.
    pub fn pending(&self) -> &crate::tally::Tally {
        &self.pending
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records bytes that moved on a stream (every flow of the connection: a relay's two
    /// legs).
    pub fn data(&self, connection: &str, direction: Direction, bytes: &[u8]) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.stream_data(connection, direction, now, bytes);
        inner.show_data(connection, direction, now, bytes);
    }

    /// Records one UDP datagram on `flow`; shown as [`Transcript::data`] shows bytes.
    pub fn datagram(&self, flow: FlowId, direction: Direction, bytes: &[u8]) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        let Some(connection) = inner
            .wire
            .flows
            .get(flow.0)
            .map(|flow| flow.connection.clone())
        else {
            return;
        };
        if inner.wire.records.len() < MAX_RECORDS {
            let payload = inner.payload(bytes);
            inner.wire.records.push(WireRecord {
                connection: connection.clone(),
                flow: Some(flow),
                direction,
                at: whole_micros(now),
                act: WireAct::Datagram(payload),
            });
        } else {
            inner.wire.datagrams_left_out += 1;
        }
        inner.show_data(&connection, direction, now, bytes);
    }

    /// Records an event of a connection, for the report only (nothing on the wire).
    pub fn event(&self, connection: &str, direction: Direction, event: impl Into<String>) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.show_event(connection, direction, now, event.into());
    }

    /// A connection opened: shows `text` (`connected`), registers its flow (see
    /// [`Transcript::flow`]) and returns it.
    pub fn opened(&self, direction: Direction, text: &str, flow: Flow) -> FlowId {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.show_event(&flow.connection.clone(), direction, now, text.to_owned());
        inner.register(flow, now)
    }

    /// Registers a flow without showing anything (a relay's leg to the server, the
    /// socket a UDP peer talks to). A TCP flow opens now (its handshake). The same flow
    /// registered again is the same flow.
    pub fn flow(&self, flow: Flow) -> FlowId {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.register(flow, now)
    }

    /// The side sending `direction` half-closed (FIN), on every flow of the connection;
    /// shows `text`.
    pub fn fin(&self, connection: &str, direction: Direction, text: impl Into<String>) {
        self.act(connection, direction, text.into(), WireAct::Fin);
    }

    /// The side sending `direction` closed its socket (a FIN on the wire); shows `text`.
    pub fn closed(&self, connection: &str, direction: Direction, text: impl Into<String>) {
        self.act(connection, direction, text.into(), WireAct::Close);
    }

    /// The side sending `direction` reset the connection (RST); shows `text`.
    pub fn reset(&self, connection: &str, direction: Direction, text: impl Into<String>) {
        self.act(connection, direction, text.into(), WireAct::Reset);
    }

    fn act(&self, connection: &str, direction: Direction, text: String, act: WireAct) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.show_event(connection, direction, now, text);
        inner.record(connection, None, direction, now, act);
    }

    /// Records `act` by the side sending `direction` on one flow (or, with `None`, every
    /// flow of the connection), on the wire only: what the report does not show (the
    /// close after a dialogue; a relay closing one leg because the other was reset).
    pub fn on_wire(
        &self,
        connection: &str,
        flow: Option<FlowId>,
        direction: Direction,
        act: WireAct,
    ) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.record(connection, flow, direction, now, act);
    }

    /// Names the program harness peer `peer` talks to (`c1` connects to `server`), for
    /// the capture's flows.
    pub fn name_program(&self, peer: &str, program: &str) {
        self.lock()
            .programs
            .insert(peer.to_owned(), program.to_owned());
    }

    /// Names a program pointed at harness peer `peer` (`client` connects to `relay`).
    pub fn name_client(&self, peer: &str, program: &str) {
        let mut inner = self.lock();
        let clients = inner.clients.entry(peer.to_owned()).or_default();
        if !clients.iter().any(|known| known == program) {
            clients.push(program.to_owned());
        }
    }

    /// The end of a flow that is the program `peer` talks to (`program` if unnamed).
    pub fn program_end(&self, peer: &str, address: std::net::SocketAddr) -> FlowEnd {
        let name = self.lock().programs.get(peer).cloned();
        FlowEnd {
            name: name.unwrap_or_else(|| "program".into()),
            address,
            program: true,
        }
    }

    /// The end of a flow that is a program pointed at `peer` (`client program` if
    /// unnamed; `client or client2` when several are).
    pub fn client_end(&self, peer: &str, address: std::net::SocketAddr) -> FlowEnd {
        let name = self
            .lock()
            .clients
            .get(peer)
            .map(|names| names.join(" or "));
        FlowEnd {
            name: name.unwrap_or_else(|| "client program".into()),
            address,
            program: true,
        }
    }

    /// Every byte moved so far (up to the budget), for the packet capture.
    pub fn wire(&self) -> Wire {
        self.lock().wire.clone()
    }

    /// The entries so far, and how many were left out.
    pub fn entries(&self) -> (Vec<TranscriptEntry>, u64) {
        let inner = self.lock();
        (inner.entries.clone(), inner.dropped)
    }
}

impl Inner {
    fn show_data(&mut self, connection: &str, direction: Direction, now: Duration, bytes: &[u8]) {
        if let Some(last) = self.entries.last_mut()
            && last.event.is_none()
            && last.connection == connection
            && last.direction == direction
        {
            last.last = now;
            last.bytes += bytes.len() as u64;
            last.pieces += 1;
            let room = HEAD_BYTES.saturating_sub(last.head.len());
            last.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
            return;
        }
        self.push(TranscriptEntry {
            connection: connection.to_owned(),
            direction,
            first: now,
            last: now,
            bytes: bytes.len() as u64,
            pieces: 1,
            head: bytes[..HEAD_BYTES.min(bytes.len())].to_vec(),
            event: None,
        });
    }

    fn show_event(&mut self, connection: &str, direction: Direction, now: Duration, event: String) {
        self.push(TranscriptEntry {
            connection: connection.to_owned(),
            direction,
            first: now,
            last: now,
            bytes: 0,
            pieces: 0,
            head: Vec::new(),
            event: Some(event),
        });
    }

    /// `bytes` as the wire keeps them: whole within the budget, else their length.
    fn payload(&mut self, bytes: &[u8]) -> WireBytes {
        let room = PAYLOAD_BUDGET
            .saturating_sub(self.kept)
            .min(bytes.len() as u64) as usize;
        self.kept += room as u64;
        self.wire.bytes_left_out += (bytes.len() - room) as u64;
        WireBytes {
            bytes: bytes[..room].to_vec(),
            length: bytes.len() as u64,
        }
    }

    fn stream_data(&mut self, connection: &str, direction: Direction, now: Duration, bytes: &[u8]) {
        let way = usize::from(direction == Direction::FromProgram);
        if self.wire.records.len() >= MAX_RECORDS
            && let Some(index) = self.last_data.get(connection).and_then(|last| last[way])
        {
            self.join(index, bytes);
            return;
        }
        let payload = self.payload(bytes);
        let index = self.wire.records.len();
        self.record(connection, None, direction, now, WireAct::Data(payload));
        match self.last_data.get_mut(connection) {
            Some(last) => last[way] = Some(index),
            None => {
                let mut last = [None; 2];
                last[way] = Some(index);
                self.last_data.insert(connection.to_owned(), last);
            }
        }
    }

    /// Adds `bytes` to data record `index`: the segments of one write then stand for
    /// several, with the right sequence numbers.
    fn join(&mut self, index: usize, bytes: &[u8]) {
        let whole = match &self.wire.records[index].act {
            WireAct::Data(payload) => payload.is_whole(),
            _ => false,
        };
        // Kept bytes must follow the record's own: once it lost some, only lengths.
        let payload = if whole {
            self.payload(bytes)
        } else {
            self.wire.bytes_left_out += bytes.len() as u64;
            WireBytes {
                bytes: Vec::new(),
                length: bytes.len() as u64,
            }
        };
        if let WireAct::Data(last) = &mut self.wire.records[index].act {
            last.bytes.extend_from_slice(&payload.bytes);
            last.length += payload.length;
        }
    }

    fn record(
        &mut self,
        connection: &str,
        flow: Option<FlowId>,
        direction: Direction,
        at: Duration,
        act: WireAct,
    ) {
        self.wire.records.push(WireRecord {
            connection: connection.to_owned(),
            flow,
            direction,
            at: whole_micros(at),
            act,
        });
    }

    fn register(&mut self, flow: Flow, now: Duration) -> FlowId {
        if let Some(index) = self.wire.flows.iter().position(|known| *known == flow) {
            return FlowId(index);
        }
        let id = FlowId(self.wire.flows.len());
        if flow.protocol == Protocol::Tcp {
            let (connection, direction) = (flow.connection.clone(), Direction::ToProgram);
            self.wire.flows.push(flow);
            self.record(&connection, Some(id), direction, now, WireAct::Open);
        } else {
            self.wire.flows.push(flow);
        }
        id
    }

    fn push(&mut self, entry: TranscriptEntry) {
        if self.entries.len() < MAX_ENTRIES {
            self.entries.push(entry);
        } else {
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Side;

    fn transcript_with_c1() -> (Transcript, FlowId) {
        let transcript = Transcript::new(Instant::now());
        transcript.name_program("c1", "server");
        let flow = Flow::opened_by_harness(
            "c1",
            Protocol::Tcp,
            FlowEnd::harness("c1", "127.0.0.1:40000".parse().unwrap()),
            transcript.program_end("c1", "127.0.0.1:9000".parse().unwrap()),
        );
        let id = transcript.opened(Direction::ToProgram, "connected", flow);
        (transcript, id)
    }

    #[test]
    fn typed_events_show_the_same_text_and_reach_the_wire() {
        let (transcript, id) = transcript_with_c1();
        transcript.data("c1", Direction::ToProgram, b"hello");
        transcript.fin("c1", Direction::ToProgram, "half-closed (FIN)");
        transcript.reset("c1", Direction::FromProgram, "error: reset");
        let (entries, _) = transcript.entries();
        let shown: Vec<Option<&str>> = entries.iter().map(|entry| entry.event.as_deref()).collect();
        assert_eq!(
            shown,
            [
                Some("connected"),
                None,
                Some("half-closed (FIN)"),
                Some("error: reset")
            ]
        );
        let wire = transcript.wire();
        assert_eq!(wire.flows[id.0].server.name, "server");
        assert_eq!(wire.flows[id.0].to_program_from, Side::Client);
        let acts: Vec<&WireAct> = wire.records.iter().map(|record| &record.act).collect();
        assert!(matches!(
            acts[..],
            [
                WireAct::Open,
                WireAct::Data(_),
                WireAct::Fin,
                WireAct::Reset
            ]
        ));
        assert_eq!(wire.stream(id, Direction::ToProgram), b"hello");
    }

    #[test]
    fn past_the_budget_only_lengths_are_kept() {
        let (transcript, id) = transcript_with_c1();
        let three = vec![1u8; 3 << 20];
        transcript.data("c1", Direction::ToProgram, &three);
        transcript.data("c1", Direction::ToProgram, &three);
        let wire = transcript.wire();
        let WireAct::Data(second) = &wire.records[2].act else {
            panic!("data")
        };
        assert_eq!(second.length, 3 << 20);
        assert_eq!(second.bytes.len(), 1 << 20);
        assert_eq!(wire.bytes_left_out, 2 << 20);
        assert_eq!(
            wire.stream(id, Direction::ToProgram).len() as u64,
            PAYLOAD_BUDGET
        );
        // The report still counts every byte.
        assert_eq!(transcript.entries().0[1].bytes, 6 << 20);
    }

    #[test]
    fn past_the_most_records_a_stream_joins_its_last_record() {
        let (transcript, id) = transcript_with_c1();
        for _ in 0..MAX_RECORDS + 10 {
            transcript.data("c1", Direction::ToProgram, b"x");
        }
        let wire = transcript.wire();
        assert_eq!(wire.records.len(), MAX_RECORDS);
        assert_eq!(
            wire.stream(id, Direction::ToProgram).len(),
            MAX_RECORDS + 10
        );
    }
}
