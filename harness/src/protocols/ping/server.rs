//! The ping server peer: each datagram `Ping <seq> <time>` is answered uppercased, at once,
//! late, or never, as the script says, and remembered with its fate, so the client's
//! report can be checked ping by ping ([`super::report`]).

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::PingScript;
use super::line::ping_sequence;
use crate::peers::{DatagramAnswer, ProtocolRecord, ProtocolServer};
use crate::transcript::Direction;

/// A ping the scripted server received, and what it did with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingRecord {
    /// Its sequence number.
    pub seq: u64,
    /// `None`: dropped; else how long after the ping its answer was to leave (the script).
    pub answered_after: Option<Duration>,
    /// When it arrived.
    pub arrived: tokio::time::Instant,
    /// How long after it arrived its answer left, once it did: on a loaded machine the
    /// harness may send it later than the script says, which the judge must not lay at
    /// the client's door.
    pub left_after: Option<Duration>,
}

impl PingRecord {
    /// How long after the ping its answer left, or has not yet left, as far as is known
    /// now: `None` if dropped.
    pub fn answer_delay(&self) -> Option<Duration> {
        let scripted = self.answered_after?;
        Some(
            self.left_after
                .unwrap_or_else(|| self.arrived.elapsed())
                .max(scripted),
        )
    }
}

/// The pings one ping server peer received, in arrival order.
pub(super) type Pings = Mutex<Vec<PingRecord>>;

impl ProtocolRecord for Pings {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One running ping server peer.
#[derive(Debug)]
pub(super) struct PingServer {
    script: PingScript,
    pings: Arc<Pings>,
}

impl PingServer {
    pub(super) fn new(script: PingScript) -> PingServer {
        PingServer {
            script,
            pings: Arc::default(),
        }
    }
}

impl ProtocolServer for PingServer {
    fn record(&self) -> &dyn ProtocolRecord {
        let pings: &Pings = &self.pings;
        pings
    }

    fn datagram(&self, datagram: &[u8], answer: &mut DatagramAnswer<'_>) {
        let Some(seq) = ping_sequence(datagram) else {
            answer.note(
                Direction::FromProgram,
                "not a ping (`Ping <seq> <time>`): ignored",
            );
            return;
        };
        let answered_after = self.script.fate(seq);
        let index = {
            let mut pings = self
                .pings
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            pings.push(PingRecord {
                seq,
                answered_after,
                arrived: answer.arrived(),
                left_after: None,
            });
            pings.len() - 1
        };
        let Some(delay) = answered_after else {
            answer.note(
                Direction::ToProgram,
                format!("ping {seq} dropped on purpose"),
            );
            return;
        };
        let note = if delay.is_zero() {
            "end of datagram".to_owned()
        } else {
            format!(
                "end of datagram (answer to ping {seq}, held {} ms)",
                delay.as_millis()
            )
        };
        let pings = Arc::clone(&self.pings);
        answer.send_after(delay, datagram.to_ascii_uppercase(), note, move |left| {
            if let Some(record) = pings
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get_mut(index)
            {
                record.left_after = Some(left);
            }
        });
    }
}

/// The pings recorded so far (none if `record` is not a ping server's).
pub(super) fn pings(record: Option<&dyn ProtocolRecord>) -> Vec<PingRecord> {
    record
        .and_then(|record| record.as_any().downcast_ref::<Pings>())
        .map(|pings| {
            pings
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone()
        })
        .unwrap_or_default()
}
