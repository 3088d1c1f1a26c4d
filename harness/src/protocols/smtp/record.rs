//! What the mail server peer saw: one session per client connection, its commands as
//! they came (encrypted or not, how each line ended), its messages as raw data, its
//! logins, and every byte it received outside TLS.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::peers::{ClearConnection, Progress, ProtocolRecord};

/// The most bytes received in clear kept per connection.
pub(super) const MAX_CLEAR: usize = 1 << 20;

/// One command line a client sent.
#[derive(Debug, Clone)]
pub struct SmtpCommand {
    /// Its verb, in capitals (`EHLO`, `MAIL`, ...).
    pub verb: String,
    /// The whole line, without its line ending.
    pub line: String,
    /// It came inside TLS.
    pub encrypted: bool,
    /// It ended with CRLF, as SMTP requires (not a bare LF, and not cut by the close).
    pub crlf: bool,
}

/// What one client connection did.
#[derive(Debug, Clone, Default)]
pub struct SmtpSession {
    /// Its commands, in order (not the lines of `DATA`, nor `AUTH`'s continuation lines).
    pub commands: Vec<SmtpCommand>,
    /// Each message's data as it came, dot-stuffed, without the closing `.` line.
    pub messages: Vec<Vec<u8>>,
    /// The user name an `AUTH` gave, and whether it came inside TLS.
    pub logins: Vec<(String, bool)>,
    /// The client quit or closed: the session is over.
    pub ended: bool,
    /// The TLS handshake failed, and why.
    pub tls_error: Option<String>,
    /// Every byte the client sent outside TLS, as it came (up to [`MAX_CLEAR`]): what
    /// anyone on the way could read (SPEC smtp/4: never the password).
    pub in_clear: Vec<u8>,
}

/// The sessions of one mail server peer, shared with the pack's judges.
pub(super) type Sessions = Arc<Mutex<Vec<SmtpSession>>>;

impl ProtocolRecord for Mutex<Vec<SmtpSession>> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    /// A login is an `AUTH`; the session's `logins` are those the peer accepted.
    fn progress(&self) -> Option<Progress> {
        let sessions = sessions(self);
        let mut logins = Vec::new();
        for session in &sessions {
            let tried = session
                .commands
                .iter()
                .filter(|command| command.verb == "AUTH")
                .count();
            let accepted = session.logins.len().min(tried);
            logins.extend((0..tried).map(|index| index < accepted));
        }
        Some(Progress {
            connections: sessions.len(),
            logins,
            commands: sessions
                .iter()
                .flat_map(|session| &session.commands)
                .map(|command| command.verb.clone())
                .collect(),
        })
    }

    /// What each session sent outside TLS; an `AUTH` there (in any case: the verb is
    /// kept in capitals) carries credentials whatever it holds.
    fn in_clear(&self) -> Option<Vec<ClearConnection>> {
        Some(
            sessions(self)
                .into_iter()
                .map(|session| ClearConnection {
                    credentials_in_clear: session
                        .commands
                        .iter()
                        .filter(|command| command.verb == "AUTH" && !command.encrypted)
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
pub(super) fn sessions(record: &Mutex<Vec<SmtpSession>>) -> Vec<SmtpSession> {
    record
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(line: &str, encrypted: bool) -> SmtpCommand {
        SmtpCommand {
            verb: line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase(),
            line: line.to_owned(),
            encrypted,
            crlf: true,
        }
    }

    #[test]
    fn only_an_auth_outside_tls_carries_credentials_in_clear() {
        let session = SmtpSession {
            commands: vec![
                command("EHLO x", false),
                command("auth PLAIN AGFsaWNlAHMzY3JldA==", false),
                command("AUTH LOGIN", true),
            ],
            in_clear: b"EHLO x\r\n".to_vec(),
            ended: true,
            ..SmtpSession::default()
        };
        let record = Mutex::new(vec![session]);
        let clear = record.in_clear().expect("SMTP keeps what crossed in clear");
        assert_eq!(
            clear[0].credentials_in_clear,
            ["auth PLAIN AGFsaWNlAHMzY3JldA=="]
        );
        assert_eq!(clear[0].bytes, b"EHLO x\r\n");
        assert!(clear[0].ended);
    }
}
