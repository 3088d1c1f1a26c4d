//! What the POP3 server peer saw: one session per client connection, every command as it
//! came (inside TLS or not), the logins, each `DELE`, whether the client ended with
//! `QUIT`, what the `QUIT` deleted, and every byte received outside TLS.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::peers::{ClearConnection, Progress, ProtocolRecord};

/// One command a client sent.
#[derive(Debug, Clone)]
pub struct Pop3Command {
    /// Its keyword, in capitals (`USER`, `RETR`, ...).
    pub verb: String,
    /// The whole line, without its line ending.
    pub line: String,
    /// It came inside TLS.
    pub encrypted: bool,
}

/// What one client connection did.
#[derive(Debug, Clone, Default)]
pub struct Pop3Session {
    /// Its commands, in order.
    pub commands: Vec<Pop3Command>,
    /// Each `PASS` tried: the user name, whether accepted, whether inside TLS.
    pub logins: Vec<(String, bool, bool)>,
    /// The message numbers each accepted `DELE` marked.
    pub deleted: Vec<u32>,
    /// The client sent `QUIT`.
    pub quit: bool,
    /// The UIDs removed from the maildrop when the `QUIT` ended the transaction.
    pub removed: Vec<u32>,
    /// The client quit or closed: the session is over.
    pub ended: bool,
    /// The TLS handshake failed, and why.
    pub tls_error: Option<String>,
    /// Every byte the client sent outside TLS (up to `mailstore::MAX_CLEAR`).
    pub in_clear: Vec<u8>,
}

/// The sessions of one POP3 server peer, shared with the pack's judges.
pub(super) type Pop3Sessions = Arc<Mutex<Vec<Pop3Session>>>;

/// The commands that carry credentials (`USER` carries only a name).
const CREDENTIALS: [&str; 3] = ["PASS", "APOP", "AUTH"];

impl ProtocolRecord for Mutex<Vec<Pop3Session>> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn progress(&self) -> Option<Progress> {
        Some(Progress::of_sessions(
            &pop3_sessions(self),
            |session| &session.logins,
            |(_, accepted, _)| *accepted,
            |session| &session.commands,
            |command| command.verb.clone(),
        ))
    }

    /// What each session sent outside TLS; a `PASS`, `APOP` or `AUTH` there carries
    /// credentials whatever it holds.
    fn in_clear(&self) -> Option<Vec<ClearConnection>> {
        Some(
            pop3_sessions(self)
                .into_iter()
                .map(|session| ClearConnection {
                    credentials_in_clear: session
                        .commands
                        .iter()
                        .filter(|command| {
                            !command.encrypted && CREDENTIALS.contains(&command.verb.as_str())
                        })
                        .map(|command| command.line.clone())
                        .collect(),
                    bytes: session.in_clear,
                    ended: session.ended,
                })
                .collect(),
        )
    }
}

/// A copy of the sessions so far.
pub(super) fn pop3_sessions(record: &Mutex<Vec<Pop3Session>>) -> Vec<Pop3Session> {
    record
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}
