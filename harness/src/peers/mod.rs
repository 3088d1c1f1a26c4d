//! Who is on the other end: the harness as a client of the program under test (over TCP, or
//! one datagram over UDP), as a server its client programs talk to, and as a relay between
//! two programs of a submission. All record what they move in a shared
//! [`crate::transcript::Transcript`] and
//! keep what the program sent them, for the scenario to check.

pub(crate) mod client;
mod datagram;
mod lines;
mod relay;
mod server;
pub mod smtp;
pub mod stand_in;

pub use client::{ClientPeer, ClientPlan};
pub use datagram::DatagramPeer;
pub use lines::next_line;
pub use relay::Relay;
pub use server::{
    OriginScript, PingDelay, PingRecord, PingScript, ReadUntil, ServerPeer, ServerPlan, Speaks,
    Transport, ping_sequence,
};

/// The most a harness peer keeps of what a program sent it (a 10 MB body fits).
pub const RECEIVED_CAP: u64 = 64 << 20;

/// The largest UDP payload (IPv4: 65535 minus the IP and UDP headers).
pub const MAX_DATAGRAM: usize = 65_507;
