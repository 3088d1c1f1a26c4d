//! The wire: what a scenario's harness sockets moved, kept so that a packet capture can be
//! synthesized from it ([`crate::pcap`]) and `--record` files can keep it.
//!
//! Every peer of the harness records into the scenario's transcript (the harness's
//! `transcript::Transcript`); besides the entries the report shows, the transcript keeps a
//! [`Wire`]:
//!
//! - its [`Flow`]s: for each connection label of the transcript (`c1`, `relay#1`,
//!   `mta#2`), TCP or UDP, the address and name of both ends, which end connected and which
//!   is a program of the submission. A relay's connection is two flows, two TCP legs
//!   carrying the same bytes: the client program to the relay, the relay to the server
//!   program. A UDP server peer has one flow per program socket that wrote to it.
//! - its [`WireRecord`]s, in order: when (since the scenario started) a connection
//!   opened, moved bytes one way, half-closed (FIN), closed, or was reset (RST), and each
//!   UDP datagram.
//!
//! ```text
//!   c1      → server   open                  +0.004s  SYN, SYN-ACK, ACK
//!   c1      → server   data 1000 bytes       +0.005s  PSH-ACK 1000, ACK
//!   c1      → server   fin                   +0.006s  FIN-ACK, ACK
//!   c1      ← server   data 12 bytes         +0.009s  PSH-ACK 12, ACK
//! ```
//!
//! Who is who: a flow's ends are named after the scenario (`c1`, `relay`, `mta` for the
//! harness's peers; `server`, `client` for the programs when the scenario says which
//! program it is, else `program` or `client program`), in the [`Wire`] that `--record`
//! files keep; the `.pcap` itself has only addresses (in the simulated world, the hosts'
//! addresses: the harness is one host, each program another).

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The largest write a harness peer makes when no slice plan cuts the stream: more writes
/// than whole writes of this size would take were cut on purpose (the sequence diagram of
/// the HTML report says so).
pub const WHOLE_WRITE: u64 = 64 * 1024;

/// Payload bytes a scenario's [`Wire`] keeps; past it, only lengths (packets cut short).
pub const PAYLOAD_BUDGET: u64 = 4 << 20;

/// Every byte a scenario's harness sockets moved (up to [`PAYLOAD_BUDGET`]), with the
/// connections' addresses: what its packet capture is synthesized from. Recorded by the
/// scenario's transcript (the harness's `transcript::Transcript`), sent in the `capture`
/// event, kept in `--record` files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wire {
    /// When the scenario started, since the Unix epoch: the wall clock in the real world,
    /// the simulation's fixed epoch plus simulated time in the simulated world.
    #[serde(with = "crate::encoding::micros")]
    pub started: Duration,
    /// Every connection (a relay's connection: its two legs).
    pub flows: Vec<Flow>,
    /// What happened on them, in order.
    pub records: Vec<WireRecord>,
    /// Payload bytes past the budget: in the capture as lengths (packets cut short).
    #[serde(default)]
    pub bytes_left_out: u64,
    /// Datagrams past the most records a wire keeps: not in the capture at all.
    #[serde(default)]
    pub datagrams_left_out: u64,
}

/// A flow's index in [`Wire::flows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlowId(pub usize);

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// A connection (a stream of bytes each way).
    Tcp,
    /// Datagrams, each one whole.
    Udp,
}

/// One connection on the wire (or, for UDP, one pair of sockets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// The transcript's label for it (`c1`, `relay#1`); a relay's two legs share theirs.
    pub connection: String,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The end that connected (TCP) or wrote first (UDP).
    pub client: FlowEnd,
    /// The end that accepted (TCP) or was written to (UDP).
    pub server: FlowEnd,
    /// The end that sends what the transcript marks "to the program" (the harness, or a
    /// client program through a relay); the other sends what comes "from the program".
    pub to_program_from: Side,
    /// On a relay's leg to the server program: whether the relay cuts what it forwards into
    /// slices (its slice plan), which tells the harness's cuts from the client program's own
    /// pieces passed on. `None` on every other flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_slices: Option<bool>,
}

/// One end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowEnd {
    /// Who it is: a peer of the harness (`c1`, `relay`), or a program (`server`, or
    /// `program` / `client program` when the scenario does not say which).
    pub name: String,
    /// Its address.
    pub address: SocketAddr,
    /// A program of the submission (else the harness).
    pub program: bool,
}

impl Flow {
    /// A connection the harness opened to a program (TCP), or a UDP socket of the harness
    /// writing to one.
    pub fn opened_by_harness(
        connection: &str,
        protocol: Protocol,
        harness: FlowEnd,
        program: FlowEnd,
    ) -> Flow {
        Flow {
            connection: connection.to_owned(),
            protocol,
            client: harness,
            server: program,
            to_program_from: Side::Client,
            relay_slices: None,
        }
    }

    /// A connection a program opened to a harness peer (TCP), or a program's UDP socket
    /// writing to one.
    pub fn opened_by_program(
        connection: &str,
        protocol: Protocol,
        program: FlowEnd,
        harness: FlowEnd,
    ) -> Flow {
        Flow {
            connection: connection.to_owned(),
            protocol,
            client: program,
            server: harness,
            to_program_from: Side::Server,
            relay_slices: None,
        }
    }
}

impl FlowEnd {
    /// A peer of the harness (`c1`, `relay`, `mta`) at `address`.
    pub fn harness(peer: &str, address: SocketAddr) -> FlowEnd {
        FlowEnd {
            name: peer.to_owned(),
            address,
            program: false,
        }
    }
}

/// Something that happened on a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    /// The connection's label.
    pub connection: String,
    /// The one flow it happened on; none: every flow of the connection (a relay passes
    /// bytes, FIN and RST from one leg to the other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowId>,
    /// Which way: whoever sends that way on the flow did it (see
    /// [`Flow::to_program_from`]).
    pub direction: Direction,
    /// When, since the scenario started.
    #[serde(with = "crate::encoding::micros")]
    pub at: Duration,
    /// What.
    pub act: WireAct,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WireAct {
    /// The connection opened (TCP: the three-way handshake).
    Open,
    /// Bytes moved on a stream (one write or read of the harness).
    Data(WireBytes),
    /// One UDP datagram.
    Datagram(WireBytes),
    /// Half-close: FIN.
    Fin,
    /// Full close (a FIN on the wire too: the other side cannot tell, until it writes).
    Close,
    /// Reset: RST.
    Reset,
}

/// Bytes that moved, kept whole or (past the budget) only in part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireBytes {
    /// The first bytes (all of them, within the budget).
    #[serde(with = "crate::encoding::base64_bytes")]
    pub bytes: Vec<u8>,
    /// How many moved.
    pub length: u64,
}

impl WireBytes {
    /// Whether every byte is kept.
    pub fn is_whole(&self) -> bool {
        self.bytes.len() as u64 == self.length
    }
}

impl Wire {
    /// Whether nothing moved.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty() && self.records.is_empty()
    }

    /// The flows of connection `label`.
    pub fn flows_of<'w>(&'w self, label: &'w str) -> impl Iterator<Item = (FlowId, &'w Flow)> {
        self.flows
            .iter()
            .enumerate()
            .filter(move |(_, flow)| flow.connection == label)
            .map(|(index, flow)| (FlowId(index), flow))
    }

    /// The bytes that went one way on a flow, as far as they are kept: what following the
    /// stream in Wireshark shows.
    pub fn stream(&self, flow: FlowId, direction: Direction) -> Vec<u8> {
        let Some(label) = self.flows.get(flow.0).map(|flow| &flow.connection) else {
            return Vec::new();
        };
        let mut bytes = Vec::new();
        for record in &self.records {
            if record.direction != direction
                || record.connection != *label
                || record.flow.is_some_and(|only| only != flow)
            {
                continue;
            }
            if let WireAct::Data(payload) | WireAct::Datagram(payload) = &record.act {
                bytes.extend_from_slice(&payload.bytes);
            }
        }
        bytes
    }
}

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the harness (or the submission's client, through a relay) to the program.
    ToProgram,
    /// From the program.
    FromProgram,
}

/// Which side sends a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side that connected.
    Client,
    /// The side that accepted.
    Server,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}
