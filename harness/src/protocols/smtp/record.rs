//! What the mail server peer saw: one session per client connection, its commands as
//! they came (encrypted or not, how each line ended), its messages as raw data, its
//! logins, and every byte it received outside TLS.

use std::sync::{Arc, Mutex};

use crate::peers::ClearConnection;
use crate::protocols::sessions::{Session, clear_connection};

/// The most bytes received in clear kept per connection.
pub(super) const MAX_CLEAR: usize = 1 << 20;

/// One command line a client sent.
#[derive(Debug, Clone)]
pub(super) struct SmtpCommand {
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
pub(super) struct SmtpSession {
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
    /// The peer could not present a certificate (the test CA could not be made): the
    /// harness's trouble, never the client's.
    pub certificate_trouble: Option<String>,
    /// Every byte the client sent outside TLS, as it came (up to [`MAX_CLEAR`]): what
    /// anyone on the way could read (SPEC smtp/4: never the password).
    pub in_clear: Vec<u8>,
    /// The bytes of its commands and messages kept, counted against the peer's bound on
    /// what it keeps (`server::MAX_KEPT`).
    pub kept: u64,
    /// The first bound the client passed (a message longer than the peer keeps, more
    /// commands and mail than it keeps in all), said: what it sent past it was not kept,
    /// and the judges say this first.
    pub past_bound: Option<String>,
}

/// The sessions of one mail server peer, shared with the pack's judges.
pub(super) type Sessions = Arc<Mutex<Vec<SmtpSession>>>;

impl Session for SmtpSession {
    const PROTOCOL: &'static str = "SMTP";
    const KEEPS_CLEAR_TEXT: bool = true;

    fn trouble(&self) -> Option<String> {
        self.certificate_trouble.clone()
    }

    fn ended(&self) -> bool {
        self.ended
    }

    /// Each `AUTH` tried; the server accepted the first `logins.len()` of them (a client
    /// tries again only after a refusal).
    fn logins_tried(&self) -> Vec<bool> {
        let tried = self
            .commands
            .iter()
            .filter(|command| command.verb == "AUTH")
            .count();
        let accepted = self.logins.len().min(tried);
        (0..tried).map(|index| index < accepted).collect()
    }

    fn verbs(&self) -> Vec<String> {
        self.commands
            .iter()
            .map(|command| command.verb.clone())
            .collect()
    }

    /// An `AUTH` sent outside TLS carries credentials whatever it holds.
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
            &["AUTH"],
            &self.in_clear,
            self.ended,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::ProtocolRecord;
    use std::sync::Mutex;

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
