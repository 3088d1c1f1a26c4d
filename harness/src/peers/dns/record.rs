//! The record of queries: every question the harness's DNS answered, in order, for the
//! step log ("smtp-client looked up smtp.example.com") and for judges that care which
//! names a program asked for.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::answer::Question;

/// How the question came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// Over UDP (a datagram each way).
    Udp,
    /// Over TCP (each message after its 2-byte length).
    Tcp,
}

impl std::fmt::Display for Carrier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Carrier::Udp => "UDP",
            Carrier::Tcp => "TCP",
        })
    }
}

/// One question answered.
#[derive(Debug, Clone)]
pub struct Query {
    /// When it came.
    pub at: Instant,
    /// The name, its type and what the harness answered.
    pub question: Question,
    /// Over UDP or over TCP.
    pub carrier: Carrier,
    /// The address and port the client sent it to (`127.0.0.53:53`: whatever its
    /// resolver is configured with, since every address is local).
    pub server: SocketAddr,
}

impl Query {
    /// `A smtp.example.com. -> 127.0.0.1 (UDP to 127.0.0.1:53)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} -> {} ({} to {})",
            self.question.kind, self.question.name, self.question.answer, self.carrier, self.server
        )
    }
}

/// The most queries kept: a program that looks names up in a loop must not fill memory.
pub const KEPT: usize = 10_000;

/// Queries answered so far, shared by every server of one scenario (the scenario's
/// namespace and its clients' own). Cloning it shares it.
#[derive(Debug, Clone, Default)]
pub struct QueryLog {
    state: Arc<Mutex<LogState>>,
}

#[derive(Debug, Default)]
struct LogState {
    queries: Vec<Query>,
    /// How many of `queries` [`QueryLog::take_new`] has handed out already.
    shown: usize,
    /// Queries not kept past [`KEPT`].
    dropped: u64,
}

impl QueryLog {
    /// Records one more query; past [`KEPT`] it is only counted.
    pub fn push(&self, query: Query) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if state.queries.len() < KEPT {
            state.queries.push(query);
        } else {
            state.dropped += 1;
        }
    }

    /// Every query kept so far.
    pub fn all(&self) -> Vec<Query> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        state.queries.clone()
    }

    /// The queries since the last call.
    pub fn take_new(&self) -> Vec<Query> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let new = state.queries[state.shown..].to_vec();
        state.shown = state.queries.len();
        new
    }

    /// How many queries came after [`KEPT`] and were not kept.
    pub fn dropped(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .dropped
    }
}
