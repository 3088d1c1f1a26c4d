//! What moved on every connection, with timings, for the report.
//!
//! Consecutive pieces of one connection in one direction are merged into one entry that
//! counts them, so a 20 KB message sent one byte at a time is one line ("20480 bytes in
//! 20480 writes"), not 20480. Each entry keeps the first bytes for display; the number of
//! entries is capped, so memory stays bounded whatever a scenario moves. The harness's
//! peers write them (the harness's `transcript::Transcript`), along with the scenario's
//! [`Wire`], what its packet capture is synthesized from (see [`crate::pcap`]).

use std::time::Duration;

pub use crate::wire::{Direction, Wire};

/// A run of bytes in one direction of one connection.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TranscriptEntry {
    /// The connection (`c1`, `relay#2`).
    pub connection: String,
    /// Which way.
    pub direction: Direction,
    /// When the first piece moved, since the scenario started.
    #[serde(with = "crate::encoding::micros")]
    pub first: Duration,
    /// When the last piece moved.
    #[serde(with = "crate::encoding::micros")]
    pub last: Duration,
    /// Bytes moved.
    pub bytes: u64,
    /// Calls (writes or reads) that moved them.
    pub pieces: u64,
    /// The first bytes.
    #[serde(with = "crate::encoding::base64_bytes")]
    pub head: Vec<u8>,
    /// An event instead of data: `connected`, `half-closed`, `reset`, `closed`.
    pub event: Option<String>,
}
