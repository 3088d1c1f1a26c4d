//! What the IMAP server peer saw: one session per client connection, every command as it
//! came (inside TLS or not), the logins, each message whose `\Seen` flag it set, each
//! `STORE`, each message expunged, and every byte received outside TLS.

use std::sync::{Arc, Mutex};

use crate::peers::ClearConnection;
use crate::protocols::sessions::{Session, accepted, clear_connection};

/// One command a client sent.
#[derive(Debug, Clone)]
pub(super) struct ImapCommand {
    /// Its name in capitals, `UID FETCH` for a UID command.
    pub verb: String,
    /// The whole command (literals included), without its last line ending.
    pub line: String,
    /// It came inside TLS.
    pub encrypted: bool,
}

/// What one client connection did.
#[derive(Debug, Clone, Default)]
pub(super) struct ImapSession {
    /// Its commands, in order (not `AUTHENTICATE`'s continuation lines).
    pub commands: Vec<ImapCommand>,
    /// Each login tried: the user name, whether it was accepted, whether inside TLS.
    pub logins: Vec<(String, bool, bool)>,
    /// The mailboxes selected: the name, and whether read-only (`EXAMINE`).
    pub selected: Vec<(String, bool)>,
    /// The UIDs whose `\Seen` flag this session set (a `FETCH` of a body without `PEEK`
    /// on a mailbox selected read-write, or a `STORE`).
    pub seen_set: Vec<u32>,
    /// Each `STORE` accepted, as sent.
    pub stores: Vec<String>,
    /// The UIDs expunged (`EXPUNGE`, or `CLOSE` of a read-write mailbox).
    pub expunged: Vec<u32>,
    /// The client sent `LOGOUT`.
    pub logged_out: bool,
    /// The client logged out or closed: the session is over.
    pub ended: bool,
    /// Its client began a TLS handshake (its first handshake bytes came).
    pub began_tls: bool,
    /// The TLS handshake failed, and why.
    pub tls_error: Option<String>,
    /// Every byte the client sent outside TLS (up to `mailstore::MAX_CLEAR`).
    pub in_clear: Vec<u8>,
}

/// The sessions of one IMAP server peer, shared with the pack's judges.
pub(super) type ImapSessions = Arc<Mutex<Vec<ImapSession>>>;

/// The commands that carry credentials.
const CREDENTIALS: [&str; 2] = ["LOGIN", "AUTHENTICATE"];

impl Session for ImapSession {
    const PROTOCOL: &'static str = "IMAP";
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

    /// A `LOGIN` or `AUTHENTICATE` sent outside TLS carries credentials whatever it holds.
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
