//! Who is on the other end: the harness as a client of the program under test (over TCP, or
//! one datagram over UDP), as a server its client programs talk to (speaking the
//! scenario's bytes, or a protocol of a pack: [`ProtocolScript`]), and as a relay between
//! two programs of a submission. All record what they move in a shared
//! [`crate::transcript::Transcript`] and
//! keep what the program sent them, for the scenario to check.
//!
//! Inside a scenario's network namespace, two more stand by for programs that hard-code
//! where they connect: the DNS pack ([`dns`]), which answers every name with the harness,
//! and the [`stand_in`] at a client's hard-coded port and the task's well-known ports.
//! [`pktinfo`] lets a wildcard UDP socket answer from the address a datagram was sent to.

pub(crate) mod client;
mod conversation;
mod datagram;
pub mod dns;
mod lines;
pub use harness_machine::pktinfo;
mod protocol;
mod read_pacing;
mod relay;
mod server;
pub mod stand_in;

pub use client::{ClientPeer, ClientPlan};
pub use conversation::{Conversation, DatagramAnswer, record_ending};
pub use datagram::DatagramPeer;
pub use lines::next_line;
pub use protocol::{
    ClearConnection, Progress, ProtocolRecord, ProtocolScript, ProtocolServer, Served,
};
pub use relay::Relay;
pub use server::{ReadUntil, ServerPeer, ServerPlan, Speaks, Transport};

/// The most a harness peer keeps of what a program sent it (a 10 MB body fits).
pub const RECEIVED_CAP: u64 = 64 << 20;

/// The largest UDP payload (IPv4: 65535 minus the IP and UDP headers).
pub const MAX_DATAGRAM: usize = 65_507;
