//! Packet captures synthesized from what the harness saw (`--pcap DIR`, and the lab
//! questions' `harness questions --pcap DIR`).
//!
//! The harness owns one end of every socket it uses, so it knows every connection, every
//! byte and when it moved. From that it builds the packets a capture on the wire would
//! have shown (handshake, data segments with consistent sequence and acknowledgement
//! numbers, FIN or RST, UDP datagrams, ICMP port unreachable) and writes a `.pcap` that
//! Wireshark opens and follows as a stream (*Follow TCP Stream*, `tshark -z follow,tcp`).
//! Raw IP link type: no Ethernet header, since loopback and the simulated network have
//! none; IPv4, or IPv6 when a connection's addresses are IPv6.
//!
//! # What a scenario's capture is made of: the [`Wire`]
//!
//! Every peer of the harness records into the scenario's transcript
//! ([`crate::peers::Transcript`]); besides the entries the report shows, the transcript
//! keeps a [`Wire`]:
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
//! [`Wire::packets`] turns it into packets: each write or read of the harness becomes
//! segments of at most 1460 bytes (a typical Ethernet MSS), each acknowledged at once,
//! stamped with the time the harness recorded. Timestamps are the scenario's start plus
//! the recorded offset: in the real world the wall clock when the scenario started; in
//! the simulated world the simulation's fixed epoch (2023-11-14 22:13:20 UTC) plus
//! simulated time, so the same seed gives the same capture, byte for byte.
//!
//! # What a synthesized capture does not show
//!
//! It is what the harness's sockets saw, not a kernel capture:
//!
//! - bytes are recorded per `read` and `write` call, not per segment: a write of 20 KB is
//!   shown as 15 full segments even if the kernel sent it otherwise, and there are no
//!   retransmissions, window updates or delayed ACKs;
//! - traffic that never touches a harness socket is not there (a submission's UDP client
//!   talking straight to its own server);
//! - a relay's two legs carry the bytes with the slicing the relay applied to what it
//!   wrote to the server (the client program's own segments are not known);
//! - after `STARTTLS`, the mail server peer sees the dialogue decrypted, and that is what
//!   the capture shows: plaintext SMTP on the same connection, no TLS records (the
//!   transcript says "shown decrypted" there). Sequence numbers count those plaintext
//!   bytes;
//! - a connection still open when the scenario ends has no FIN or RST;
//! - past a budget of payload per scenario ([`PAYLOAD_BUDGET`], 4 MiB), only the lengths
//!   of what moved are kept: those packets are written cut short, the honest `snaplen`
//!   way (captured length below the original length, Wireshark says "packet size limited
//!   during capture"), so sequence numbers stay right and a follow of the stream stops
//!   where the bytes stop.
//!
//! Who is who: a flow's ends are named after the scenario (`c1`, `relay`, `mta` for the
//! harness's peers; `server`, `client` for the programs when the scenario says which
//! program it is, else `program` or `client program`), in the [`Wire`] that `--record`
//! files keep; the `.pcap` itself has only addresses (in the simulated world, the hosts'
//! addresses: the harness is one host, each program another).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{
    Icmpv4Type, IpHeaders, PacketBuilder, PacketBuilderStep, icmpv4::DestUnreachableHeader,
};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use serde::{Deserialize, Serialize};

use crate::peers::Direction;

/// Largest TCP payload per segment (a typical Ethernet MSS).
const SEGMENT: usize = 1460;
/// Advertised receive window in synthesized segments.
const WINDOW: u16 = 65535;
/// The capture's snapshot length: every synthesized packet fits (a UDP datagram of 65507
/// bytes over IPv6 is 65555).
const SNAPLEN: u32 = 262_144;
/// Payload bytes a scenario's [`Wire`] keeps; past it, only lengths (packets cut short).
pub const PAYLOAD_BUDGET: u64 = 4 << 20;

/// Every byte a scenario's harness sockets moved (up to [`PAYLOAD_BUDGET`]), with the
/// connections' addresses: what its packet capture is synthesized from. Recorded by the
/// scenario's [`crate::peers::Transcript`], sent in the `capture` event, kept in
/// `--record` files.
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
    Tcp,
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
    Data(Payload),
    /// One UDP datagram.
    Datagram(Payload),
    /// Half-close: FIN.
    Fin,
    /// Full close (a FIN on the wire too: the other side cannot tell, until it writes).
    Close,
    /// Reset: RST.
    Reset,
}

/// Bytes that moved, kept whole or (past the budget) only in part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The first bytes (all of them, within the budget).
    #[serde(with = "crate::encoding::base64_bytes")]
    pub bytes: Vec<u8>,
    /// How many moved.
    pub length: u64,
}

impl Payload {
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

    /// The packets of the capture.
    pub fn packets(&self) -> PacketLog {
        let mut log = PacketLog::default();
        let mut by_label: HashMap<&str, Vec<usize>> = HashMap::new();
        for (index, flow) in self.flows.iter().enumerate() {
            by_label.entry(&flow.connection).or_default().push(index);
        }
        let mut states: Vec<TcpState> = self.flows.iter().map(|_| TcpState::default()).collect();
        for record in &self.records {
            let at = self.started + record.at;
            let targets = match record.flow {
                Some(FlowId(index)) if index < self.flows.len() => vec![index],
                Some(_) => Vec::new(),
                None => by_label
                    .get(record.connection.as_str())
                    .cloned()
                    .unwrap_or_default(),
            };
            for index in targets {
                let flow = &self.flows[index];
                let sender = match record.direction {
                    Direction::ToProgram => flow.to_program_from,
                    Direction::FromProgram => flow.to_program_from.other(),
                };
                match flow.protocol {
                    Protocol::Udp => {
                        if let WireAct::Data(payload) | WireAct::Datagram(payload) = &record.act {
                            let (from, to) = match sender {
                                Side::Client => (flow.client.address, flow.server.address),
                                Side::Server => (flow.server.address, flow.client.address),
                            };
                            log.udp_cut(at, from, to, &payload.bytes, payload.length);
                        }
                    }
                    Protocol::Tcp => states[index].take(&mut log, flow, at, sender, &record.act),
                }
            }
        }
        log
    }
}

/// Where a synthesized TCP connection stands.
#[derive(Debug, Default)]
struct TcpState {
    /// Opened: its sequence numbers.
    flow: Option<TcpFlow>,
    /// Whether the client, the server has sent its FIN.
    finished: [bool; 2],
    /// Reset: nothing follows.
    reset: bool,
}

impl TcpState {
    fn take(
        &mut self,
        log: &mut PacketLog,
        flow: &Flow,
        at: Duration,
        sender: Side,
        act: &WireAct,
    ) {
        if self.reset {
            return;
        }
        // A connection that was not seen opening opened just before (it always did).
        let tcp = self.flow.get_or_insert_with(|| {
            let mut tcp = TcpFlow::new(flow.client.address, flow.server.address);
            tcp.handshake(log, at);
            tcp
        });
        let finished = &mut self.finished[sender as usize];
        match act {
            WireAct::Open => {}
            WireAct::Data(payload) | WireAct::Datagram(payload) => {
                // Nothing can follow a FIN that way: such a record is a mistake, left out.
                if !*finished {
                    tcp.data_cut(log, at, sender, &payload.bytes, payload.length);
                }
            }
            WireAct::Fin | WireAct::Close => {
                if !*finished {
                    tcp.fin(log, at, sender);
                    *finished = true;
                }
            }
            WireAct::Reset => {
                tcp.reset(log, at, sender);
                self.reset = true;
            }
        }
    }
}

/// A packet, with its timestamp since the Unix epoch and its length on the wire (more
/// than `data` when it was captured cut short).
#[derive(Debug, Clone)]
struct Packet {
    at: Duration,
    data: Vec<u8>,
    original: u32,
}

/// Packets in capture order, each with its timestamp since the Unix epoch.
#[derive(Debug, Default, Clone)]
pub struct PacketLog {
    packets: Vec<Packet>,
}

/// IPv6 addresses when both ends have one, else IPv4 (an IPv4-mapped address is IPv4).
fn ip(from: SocketAddr, to: SocketAddr) -> PacketBuilderStep<IpHeaders> {
    match (ipv6(from), ipv6(to)) {
        (Some(source), Some(destination)) => PacketBuilder::ipv6(source, destination, 64),
        _ => PacketBuilder::ipv4(ipv4(from), ipv4(to), 64),
    }
}

fn ipv6(address: SocketAddr) -> Option<[u8; 16]> {
    match address.ip() {
        IpAddr::V6(ip) if ip.to_ipv4_mapped().is_none() => Some(ip.octets()),
        _ => None,
    }
}

/// The address as IPv4 octets (an IPv6 address that is not IPv4-mapped as IPv4 loopback:
/// used only where the other end is IPv4).
fn ipv4(address: SocketAddr) -> [u8; 4] {
    match address.ip() {
        IpAddr::V4(ip) => ip.octets(),
        IpAddr::V6(ip) => ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST).octets(),
    }
}

impl PacketLog {
    /// How many packets.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Adds a packet whose payload is `length` bytes, of which the first are `kept`
    /// (`write` builds it from a payload): whole when every byte is kept, else cut after
    /// the kept bytes, its length on the wire still the whole one.
    fn push(
        &mut self,
        at: Duration,
        kept: &[u8],
        length: usize,
        write: impl FnOnce(&mut Vec<u8>, &[u8]) -> bool,
    ) {
        let kept = &kept[..kept.len().min(length)];
        let filled;
        let payload = if kept.len() == length {
            kept
        } else {
            // The bytes left out are zeros here; the packet is cut before them, so they
            // are not written (its checksum cannot be checked, as in any cut capture).
            let mut bytes = kept.to_vec();
            bytes.resize(length, 0);
            filled = bytes;
            &filled[..]
        };
        let mut packet = Vec::with_capacity(64 + length);
        if write(&mut packet, payload) {
            let original = packet.len() as u32;
            packet.truncate(packet.len() - (length - kept.len()));
            self.packets.push(Packet {
                at,
                data: packet,
                original,
            });
        }
    }

    /// A UDP datagram.
    pub fn udp(&mut self, at: Duration, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        self.udp_cut(at, from, to, payload, payload.len() as u64);
    }

    /// A UDP datagram of `length` bytes of which the first `kept` are known.
    fn udp_cut(
        &mut self,
        at: Duration,
        from: SocketAddr,
        to: SocketAddr,
        kept: &[u8],
        length: u64,
    ) {
        let builder = ip(from, to).udp(from.port(), to.port());
        self.push(at, kept, length as usize, |out, payload| {
            builder.write(out, payload).is_ok()
        });
    }

    /// The ICMP "port unreachable" a host sends back for a UDP datagram to a closed port;
    /// `datagram` is what was sent (ICMP quotes its headers).
    pub fn port_unreachable(
        &mut self,
        at: Duration,
        from: SocketAddr,
        to: SocketAddr,
        datagram: &[u8],
    ) {
        // The quoted original: its IP header and the first 8 bytes (the UDP header).
        let quoted = {
            let builder = PacketBuilder::ipv4(ipv4(from), ipv4(to), 64).udp(from.port(), to.port());
            let mut original = Vec::new();
            let _ = builder.write(&mut original, datagram);
            original.truncate(28);
            original
        };
        let builder = PacketBuilder::ipv4(ipv4(to), ipv4(from), 64).icmpv4(
            Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::Port),
        );
        self.push(at, &quoted, quoted.len(), |out, payload| {
            builder.write(out, payload).is_ok()
        });
    }

    /// Writes the capture to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let file = std::fs::File::create(path)?;
        let header = PcapHeader {
            datalink: DataLink::RAW,
            snaplen: SNAPLEN,
            ..PcapHeader::default()
        };
        let mut writer =
            PcapWriter::with_header(io::BufWriter::new(file), header).map_err(io::Error::other)?;
        let mut packets: Vec<&Packet> = self.packets.iter().collect();
        packets.sort_by_key(|packet| packet.at);
        for packet in packets {
            writer
                .write_packet(&PcapPacket::new(packet.at, packet.original, &packet.data))
                .map_err(io::Error::other)?;
        }
        io::Write::flush(&mut writer.into_writer())
    }
}

/// One TCP connection, tracking both sides' sequence numbers.
#[derive(Debug, Clone)]
pub struct TcpFlow {
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number of the client, and of the server.
    client_next: u32,
    server_next: u32,
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

impl TcpFlow {
    /// A connection from `client` to `server`; initial sequence numbers derived from the
    /// addresses, so a capture is the same every time for the same flow.
    pub fn new(client: SocketAddr, server: SocketAddr) -> TcpFlow {
        let seed = crate::faults::fnv1a(format!("{client}->{server}").as_bytes());
        TcpFlow {
            client,
            server,
            client_next: seed as u32,
            server_next: (seed >> 32) as u32,
        }
    }

    fn ends(&self, side: Side) -> (SocketAddr, SocketAddr, u32, u32) {
        match side {
            Side::Client => (self.client, self.server, self.client_next, self.server_next),
            Side::Server => (self.server, self.client, self.server_next, self.client_next),
        }
    }

    fn advance(&mut self, side: Side, by: u32) {
        match side {
            Side::Client => self.client_next = self.client_next.wrapping_add(by),
            Side::Server => self.server_next = self.server_next.wrapping_add(by),
        }
    }

    /// One segment from `side`, whose payload is `length` bytes starting with `kept`.
    fn segment_cut(
        &self,
        log: &mut PacketLog,
        at: Duration,
        side: Side,
        flags: Flags,
        kept: &[u8],
        length: usize,
    ) {
        let (from, to, seq, ack) = self.ends(side);
        let mut builder = ip(from, to).tcp(from.port(), to.port(), seq, WINDOW);
        if flags.syn {
            builder = builder.syn();
        }
        if flags.ack {
            builder = builder.ack(ack);
        }
        if flags.psh {
            builder = builder.psh();
        }
        if flags.fin {
            builder = builder.fin();
        }
        if flags.rst {
            builder = builder.rst();
        }
        log.push(at, kept, length, |out, payload| {
            builder.write(out, payload).is_ok()
        });
    }

    fn segment(&self, log: &mut PacketLog, at: Duration, side: Side, flags: Flags, payload: &[u8]) {
        self.segment_cut(log, at, side, flags, payload, payload.len());
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self, log: &mut PacketLog, at: Duration) {
        self.segment(log, at, Side::Client, Flags::SYN, &[]);
        self.advance(Side::Client, 1);
        self.segment(log, at, Side::Server, Flags::SYN_ACK, &[]);
        self.advance(Side::Server, 1);
        self.segment(log, at, Side::Client, Flags::ACK, &[]);
    }

    /// A SYN answered by RST (nothing listens on the port).
    pub fn refused(&mut self, log: &mut PacketLog, at: Duration) {
        self.segment(log, at, Side::Client, Flags::SYN, &[]);
        self.advance(Side::Client, 1);
        self.segment(log, at, Side::Server, Flags::RST_ACK, &[]);
    }

    /// A SYN nobody answers (dropped: the listen queue is full).
    pub fn unanswered_syn(&mut self, log: &mut PacketLog, at: Duration) {
        self.segment(log, at, Side::Client, Flags::SYN, &[]);
    }

    /// Bytes from `side`, cut into segments, each acknowledged by the other side.
    pub fn data(&mut self, log: &mut PacketLog, at: Duration, side: Side, bytes: &[u8]) {
        self.data_cut(log, at, side, bytes, bytes.len() as u64);
    }

    /// `length` bytes from `side` of which the first are `kept`: segments past the kept
    /// bytes are captured cut short, with their true lengths and sequence numbers.
    fn data_cut(
        &mut self,
        log: &mut PacketLog,
        at: Duration,
        side: Side,
        kept: &[u8],
        length: u64,
    ) {
        let mut offset = 0u64;
        while offset < length {
            let size = (length - offset).min(SEGMENT as u64) as usize;
            let from = (offset as usize).min(kept.len());
            let to = (offset as usize + size).min(kept.len());
            self.segment_cut(log, at, side, Flags::PSH_ACK, &kept[from..to], size);
            self.advance(side, size as u32);
            self.segment(log, at, side.other(), Flags::ACK, &[]);
            offset += size as u64;
        }
    }

    /// FIN from `side`, acknowledged.
    pub fn fin(&mut self, log: &mut PacketLog, at: Duration, side: Side) {
        self.segment(log, at, side, Flags::FIN_ACK, &[]);
        self.advance(side, 1);
        self.segment(log, at, side.other(), Flags::ACK, &[]);
    }

    /// RST from `side`.
    pub fn reset(&mut self, log: &mut PacketLog, at: Duration, side: Side) {
        self.segment(log, at, side, Flags::RST_ACK, &[]);
    }
}

#[derive(Debug, Clone, Copy)]
struct Flags {
    syn: bool,
    ack: bool,
    psh: bool,
    fin: bool,
    rst: bool,
}

impl Flags {
    const NONE: Flags = Flags {
        syn: false,
        ack: false,
        psh: false,
        fin: false,
        rst: false,
    };
    const ACK: Flags = Flags {
        ack: true,
        ..Flags::NONE
    };
    const SYN: Flags = Flags {
        syn: true,
        ..Flags::NONE
    };
    const SYN_ACK: Flags = Flags {
        syn: true,
        ..Flags::ACK
    };
    const PSH_ACK: Flags = Flags {
        psh: true,
        ..Flags::ACK
    };
    const FIN_ACK: Flags = Flags {
        fin: true,
        ..Flags::ACK
    };
    const RST_ACK: Flags = Flags {
        rst: true,
        ..Flags::ACK
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{LaxSlicedPacket, NetSlice, SlicedPacket, TransportSlice};

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// One TCP flow `c1` from the harness (10.0.0.1:40000) to a program (10.0.0.2:9000).
    fn tcp_wire(client: &str, server: &str) -> Wire {
        Wire {
            started: Duration::from_secs(1_700_000_000),
            flows: vec![Flow::opened_by_harness(
                "c1",
                Protocol::Tcp,
                FlowEnd::harness("c1", address(client)),
                FlowEnd {
                    name: "server".into(),
                    address: address(server),
                    program: true,
                },
            )],
            ..Wire::default()
        }
    }

    fn record(wire: &mut Wire, millis: u64, direction: Direction, act: WireAct) {
        wire.records.push(WireRecord {
            connection: wire.flows[0].connection.clone(),
            flow: None,
            direction,
            at: Duration::from_millis(millis),
            act,
        });
    }

    fn data(bytes: &[u8]) -> WireAct {
        WireAct::Data(Payload {
            bytes: bytes.to_vec(),
            length: bytes.len() as u64,
        })
    }

    /// (source port, flags "SAPFR", seq, ack, payload length, captured payload) per packet.
    fn segments(log: &PacketLog) -> Vec<(u16, String, u32, u32, usize, usize)> {
        log.packets
            .iter()
            .map(|packet| {
                // Lax: a packet cut short is still read, as far as it goes.
                let sliced = LaxSlicedPacket::from_ip(&packet.data).expect("a packet");
                let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
                    panic!("TCP")
                };
                let flags: String = [
                    (tcp.syn(), 'S'),
                    (tcp.ack(), 'A'),
                    (tcp.psh(), 'P'),
                    (tcp.fin(), 'F'),
                    (tcp.rst(), 'R'),
                ]
                .iter()
                .filter(|(set, _)| *set)
                .map(|(_, letter)| *letter)
                .collect();
                let header = packet.data.len() - tcp.payload().len();
                (
                    tcp.source_port(),
                    flags,
                    tcp.sequence_number(),
                    tcp.acknowledgment_number(),
                    packet.original as usize - header,
                    tcp.payload().len(),
                )
            })
            .collect()
    }

    #[test]
    fn a_stream_is_a_handshake_segments_acks_and_fins_in_sequence() {
        let mut wire = tcp_wire("10.0.0.1:40000", "10.0.0.2:9000");
        record(&mut wire, 0, Direction::ToProgram, WireAct::Open);
        record(&mut wire, 1, Direction::ToProgram, data(&[7; 3000]));
        record(&mut wire, 2, Direction::ToProgram, WireAct::Fin);
        record(&mut wire, 3, Direction::FromProgram, data(b"ok\n"));
        record(&mut wire, 4, Direction::FromProgram, WireAct::Close);
        let log = wire.packets();
        let seen = segments(&log);
        let flags: Vec<&str> = seen.iter().map(|segment| segment.1.as_str()).collect();
        assert_eq!(
            flags,
            [
                "S", "SA", "A", "AP", "A", "AP", "A", "AP", "A", "AF", "A", "AP", "A", "AF", "A"
            ]
        );
        // The client's data: 1460 + 1460 + 80 bytes, each segment's sequence number where
        // the previous one ended, acknowledged up to its end.
        let (client_isn, server_isn) = (seen[0].2, seen[1].2);
        let first = client_isn.wrapping_add(1);
        assert_eq!(seen[3].2, first);
        assert_eq!(seen[5].2, first.wrapping_add(1460));
        assert_eq!(seen[7].2, first.wrapping_add(2920));
        assert_eq!(seen[7].4, 80);
        assert_eq!(seen[8].3, first.wrapping_add(3000));
        // The FIN takes one sequence number; the server's answer starts after its SYN.
        assert_eq!(seen[10].3, first.wrapping_add(3001));
        assert_eq!(seen[11].2, server_isn.wrapping_add(1));
        assert_eq!(seen[11].3, first.wrapping_add(3001));
        assert_eq!(seen[14].3, server_isn.wrapping_add(5));
        // Timestamps: the scenario's start plus the recorded offsets.
        assert_eq!(log.packets[0].at, Duration::from_secs(1_700_000_000));
        assert_eq!(
            log.packets[14].at,
            Duration::from_secs(1_700_000_000) + Duration::from_millis(4)
        );
    }

    #[test]
    fn bytes_past_the_budget_are_captured_cut_short_with_their_true_length() {
        let mut wire = tcp_wire("10.0.0.1:40000", "10.0.0.2:9000");
        record(&mut wire, 0, Direction::ToProgram, WireAct::Open);
        let act = WireAct::Data(Payload {
            bytes: vec![1; 2000],
            length: 3000,
        });
        record(&mut wire, 1, Direction::ToProgram, act);
        record(&mut wire, 2, Direction::ToProgram, data(b"after"));
        let seen = segments(&wire.packets());
        let data: Vec<(usize, usize)> = seen
            .iter()
            .filter(|segment| segment.1 == "AP")
            .map(|segment| (segment.4, segment.5))
            .collect();
        // (length on the wire, captured): whole, cut after the 540 kept bytes, not kept.
        assert_eq!(data, [(1460, 1460), (1460, 540), (80, 0), (5, 5)]);
        // Sequence numbers count every byte, kept or not.
        let last = seen.iter().rfind(|segment| segment.1 == "AP").unwrap();
        assert_eq!(last.2, seen[0].2.wrapping_add(1 + 3000));
    }

    #[test]
    fn ipv6_flows_make_ipv6_packets() {
        let mut wire = tcp_wire("[::1]:40000", "[::1]:9000");
        record(&mut wire, 0, Direction::ToProgram, data(b"hello"));
        record(&mut wire, 1, Direction::FromProgram, WireAct::Reset);
        let log = wire.packets();
        assert_eq!(log.len(), 3 + 2 + 1, "handshake, data and ACK, RST");
        for packet in &log.packets {
            let sliced = SlicedPacket::from_ip(&packet.data).unwrap();
            assert!(matches!(sliced.net, Some(NetSlice::Ipv6(_))));
        }
        assert_eq!(segments(&log)[5].1, "AR");
        assert_eq!(segments(&log)[5].0, 9000, "the program reset it");
    }

    #[test]
    fn a_relayed_connection_is_two_legs_carrying_the_same_bytes() {
        let mut wire = tcp_wire("10.0.0.2:50000", "10.0.0.1:7000");
        wire.flows[0] = Flow {
            to_program_from: Side::Client,
            ..Flow::opened_by_program(
                "relay#1",
                Protocol::Tcp,
                FlowEnd {
                    name: "client".into(),
                    address: address("10.0.0.2:50000"),
                    program: true,
                },
                FlowEnd::harness("relay", address("10.0.0.1:7000")),
            )
        };
        wire.flows.push(Flow::opened_by_harness(
            "relay#1",
            Protocol::Tcp,
            FlowEnd::harness("relay", address("10.0.0.1:50001")),
            FlowEnd {
                name: "server".into(),
                address: address("10.0.0.3:9000"),
                program: true,
            },
        ));
        record(&mut wire, 1, Direction::ToProgram, data(b"through"));
        record(&mut wire, 2, Direction::ToProgram, WireAct::Reset);
        let seen = segments(&wire.packets());
        // Each leg: handshake, the data and its ACK, the RST, from the side that connected.
        assert_eq!(seen.len(), 2 * 6);
        let from_client: Vec<(u16, &str)> = seen
            .iter()
            .filter(|segment| segment.1 == "AP" || segment.1 == "AR")
            .map(|segment| (segment.0, segment.1.as_str()))
            .collect();
        assert_eq!(
            from_client,
            [(50000, "AP"), (50001, "AP"), (50000, "AR"), (50001, "AR")]
        );
        assert_eq!(wire.stream(FlowId(0), Direction::ToProgram), b"through");
        assert_eq!(wire.stream(FlowId(1), Direction::ToProgram), b"through");
    }

    #[test]
    fn datagrams_go_to_the_flow_they_name() {
        let program = |port: u16| FlowEnd {
            name: "client program".into(),
            address: SocketAddr::from(([10, 0, 0, 2], port)),
            program: true,
        };
        let harness = FlowEnd::harness("srv", address("10.0.0.1:7000"));
        let mut wire = Wire::default();
        for port in [50000, 50001] {
            wire.flows.push(Flow::opened_by_program(
                "srv",
                Protocol::Udp,
                program(port),
                harness.clone(),
            ));
        }
        for (flow, direction, bytes) in [
            (1, Direction::FromProgram, &b"ping"[..]),
            (1, Direction::ToProgram, b"PING"),
            (0, Direction::FromProgram, b"x"),
        ] {
            wire.records.push(WireRecord {
                connection: "srv".into(),
                flow: Some(FlowId(flow)),
                direction,
                at: Duration::ZERO,
                act: WireAct::Datagram(Payload {
                    bytes: bytes.to_vec(),
                    length: bytes.len() as u64,
                }),
            });
        }
        let ports: Vec<(u16, u16, Vec<u8>)> = wire
            .packets()
            .packets
            .iter()
            .map(|packet| {
                let sliced = SlicedPacket::from_ip(&packet.data).unwrap();
                let Some(TransportSlice::Udp(udp)) = sliced.transport else {
                    panic!("UDP")
                };
                (
                    udp.source_port(),
                    udp.destination_port(),
                    udp.payload().to_vec(),
                )
            })
            .collect();
        assert_eq!(
            ports,
            [
                (50001, 7000, b"ping".to_vec()),
                (7000, 50001, b"PING".to_vec()),
                (50000, 7000, b"x".to_vec()),
            ]
        );
        assert_eq!(wire.stream(FlowId(1), Direction::FromProgram), b"ping");
    }

    #[test]
    fn a_wire_reads_back_from_its_json() {
        let mut wire = tcp_wire("10.0.0.1:40000", "10.0.0.2:9000");
        record(&mut wire, 0, Direction::ToProgram, WireAct::Open);
        record(&mut wire, 1, Direction::ToProgram, data(b"\x00\xffbytes"));
        let text = serde_json::to_string(&wire).unwrap();
        assert!(text.contains(r#""kind":"data""#), "{text}");
        assert_eq!(serde_json::from_str::<Wire>(&text).unwrap(), wire);
    }
}
