//! What the POP3 server peer saw: one session per client connection, every command as it
//! came (inside TLS or not), the logins, each `DELE`, whether the client ended with
//! `QUIT`, what the `QUIT` deleted, and every byte received outside TLS.

use std::sync::{Arc, Mutex};

use crate::peers::ClearConnection;
use crate::protocols::sessions::{Session, accepted, clear_connection};

/// One command a client sent.
#[derive(Debug, Clone)]
pub(super) struct Pop3Command {
    /// Its keyword, in capitals (`USER`, `RETR`, ...).
    pub verb: String,
    /// The whole line, without its line ending.
    pub line: String,
    /// It came inside TLS.
    pub encrypted: bool,
}

/// What one client connection did.
#[derive(Debug, Clone, Default)]
pub(super) struct Pop3Session {
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
    /// Its client began a TLS handshake (its first handshake bytes came).
    pub began_tls: bool,
    /// The TLS handshake failed, and why.
    pub tls_error: Option<String>,
    /// Every byte the client sent outside TLS (up to `mailstore::MAX_CLEAR`).
    pub in_clear: Vec<u8>,
}

/// The sessions of one POP3 server peer, shared with the pack's judges.
pub(super) type Pop3Sessions = Arc<Mutex<Vec<Pop3Session>>>;

/// The commands that carry credentials (`USER` carries only a name).
const CREDENTIALS: [&str; 3] = ["PASS", "APOP", "AUTH"];

impl Session for Pop3Session {
    const PROTOCOL: &'static str = "POP3";
    const KEEPS_CLEAR_TEXT: bool = true;

    fn ended(&self) -> bool {
        self.ended
    }

    fn logins_tried(&self) -> Vec<bool> {
        accepted(&self.logins)
    }

    fn began_tls(&self) -> bool {
        self.began_tls
    }

    fn verbs(&self) -> Vec<String> {
        self.commands
            .iter()
            .map(|command| command.verb.clone())
            .collect()
    }

    /// A `PASS`, `APOP` or `AUTH` sent outside TLS carries credentials whatever it holds.
    fn in_clear(&self) -> ClearConnection {
        let commands = self.commands.iter();
        clear_connection(
            commands.map(|command| {
                (
                    command.verb.as_str(),
                    command.line.as_str(),
                    command.encrypted,
                )
            }),
            &CREDENTIALS,
            &self.in_clear,
            self.ended,
        )
    }
}
