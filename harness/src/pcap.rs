//! Packet captures synthesized from what the harness saw.
//!
//! The harness owns one end of every socket it uses, so it knows every connection, every
//! byte and when it moved. From that it builds the packets a capture on the wire would
//! have shown (handshake, data segments with consistent sequence and acknowledgement
//! numbers, FIN or RST, UDP datagrams, ICMP port unreachable) and writes a `.pcap` that
//! Wireshark opens and follows as a stream. Raw IP link type: no Ethernet header, since
//! loopback and the simulated network have none.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::{Icmpv4Type, PacketBuilder, icmpv4::DestUnreachableHeader};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

/// Largest TCP payload per segment (a typical Ethernet MSS).
const SEGMENT: usize = 1460;
/// Advertised receive window in synthesized segments.
const WINDOW: u16 = 65535;

/// Packets in capture order, each with its timestamp since the Unix epoch.
#[derive(Debug, Default, Clone)]
pub struct PacketLog {
    packets: Vec<(Duration, Vec<u8>)>,
}

impl PacketLog {
    /// A UDP datagram.
    pub fn udp(&mut self, at: Duration, from: SocketAddr, to: SocketAddr, payload: &[u8]) {
        let (source, destination) = (ipv4(from), ipv4(to));
        let builder = PacketBuilder::ipv4(source, destination, 64).udp(from.port(), to.port());
        let mut packet = Vec::with_capacity(builder.size(payload.len()));
        if builder.write(&mut packet, payload).is_ok() {
            self.packets.push((at, packet));
        }
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
        let mut packet = Vec::with_capacity(builder.size(quoted.len()));
        if builder.write(&mut packet, &quoted).is_ok() {
            self.packets.push((at, packet));
        }
    }

    /// Writes the capture to `path`.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let file = std::fs::File::create(path)?;
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..PcapHeader::default()
        };
        let mut writer =
            PcapWriter::with_header(io::BufWriter::new(file), header).map_err(io::Error::other)?;
        let mut packets = self.packets.clone();
        packets.sort_by_key(|(at, _)| *at);
        for (at, data) in &packets {
            writer
                .write_packet(&PcapPacket::new(*at, data.len() as u32, data))
                .map_err(io::Error::other)?;
        }
        Ok(())
    }
}

/// The address as IPv4 octets (IPv6 loopback is shown as IPv4 loopback: every flow the
/// harness synthesizes today is IPv4).
fn ipv4(address: SocketAddr) -> [u8; 4] {
    match address.ip() {
        IpAddr::V4(ip) => ip.octets(),
        IpAddr::V6(ip) => ip.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST).octets(),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The side that connected.
    Client,
    /// The side that accepted.
    Server,
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

    fn segment(&self, log: &mut PacketLog, at: Duration, side: Side, flags: Flags, payload: &[u8]) {
        let (from, to, seq, ack) = self.ends(side);
        let mut builder =
            PacketBuilder::ipv4(ipv4(from), ipv4(to), 64).tcp(from.port(), to.port(), seq, WINDOW);
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
        let mut packet = Vec::with_capacity(builder.size(payload.len()));
        if builder.write(&mut packet, payload).is_ok() {
            log.packets.push((at, packet));
        }
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
        for piece in bytes.chunks(SEGMENT) {
            self.segment(log, at, side, Flags::PSH_ACK, piece);
            self.advance(side, piece.len() as u32);
            let other = match side {
                Side::Client => Side::Server,
                Side::Server => Side::Client,
            };
            self.segment(log, at, other, Flags::ACK, &[]);
        }
    }

    /// FIN from `side`, acknowledged.
    pub fn fin(&mut self, log: &mut PacketLog, at: Duration, side: Side) {
        self.segment(log, at, side, Flags::FIN_ACK, &[]);
        self.advance(side, 1);
        let other = match side {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        self.segment(log, at, other, Flags::ACK, &[]);
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
