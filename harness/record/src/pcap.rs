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
//! # From the wire to packets
//!
//! A scenario's [`Wire`] ([`crate::wire`]) holds what its harness sockets moved.
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
//! - past a budget of payload per scenario ([`crate::wire::PAYLOAD_BUDGET`], 4 MiB), only the lengths
//!   of what moved are kept: those packets are written cut short, the honest `snaplen`
//!   way (captured length below the original length, Wireshark says "packet size limited
//!   during capture"), so sequence numbers stay right and a follow of the stream stops
//!   where the bytes stop.

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

use crate::wire::{Direction, Flow, FlowId, Protocol, Side, Wire, WireAct};

/// Largest TCP payload per segment (a typical Ethernet MSS).
const SEGMENT: usize = 1460;
/// Advertised receive window in synthesized segments.
const WINDOW: u16 = 65535;
/// The capture's snapshot length: every synthesized packet fits (a UDP datagram of 65507
/// bytes over IPv6 is 65555).
const SNAPLEN: u32 = 262_144;

impl Wire {
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
        self.write_to(std::fs::File::create(path)?)
    }

    /// Writes the capture to `file` (a report's file, made new: `harness_reports::new_file`).
    pub fn write_to(&self, file: impl io::Write) -> io::Result<()> {
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

impl TcpFlow {
    /// A connection from `client` to `server`; initial sequence numbers derived from the
    /// addresses, so a capture is the same every time for the same flow.
    pub fn new(client: SocketAddr, server: SocketAddr) -> TcpFlow {
        let seed = crate::hash::fnv1a(format!("{client}->{server}").as_bytes());
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
    use crate::wire::{FlowEnd, WireBytes, WireRecord};
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
        WireAct::Data(WireBytes {
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
        let act = WireAct::Data(WireBytes {
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
                act: WireAct::Datagram(WireBytes {
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
