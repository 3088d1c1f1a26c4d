//! Why a run failed: every expected failure of both dialogues, said as the user needs it
//! on stderr (SPEC `read/4`: a message on stderr, non-zero exit).

use std::fmt;
use std::io;

use super::wire::{MAX_MESSAGE, REPLY_TIMEOUT};

/// Why the mail was not read. A password is never part of one: commands are named by
/// their verb (`LOGIN`, `PASS`), not by the line sent.
#[derive(Debug)]
pub enum Failure {
    /// The server answered `command` with a refusal: IMAP `NO` or `BAD`, POP3 `-ERR`
    /// (a wrong password is one: `NO [AUTHENTICATIONFAILED]`, `-ERR [AUTH]`).
    Refused {
        /// The command, as the message names it.
        command: String,
        /// The server's answer, as it came.
        answer: String,
    },
    /// The server's answer to `command` is not what the protocol allows there.
    Malformed {
        /// The command, as the message names it.
        command: String,
        /// What is wrong with the answer.
        why: String,
    },
    /// The server closed the connection while the client waited for an answer.
    Closed {
        /// The command, as the message names it.
        command: String,
    },
    /// No answer (or no room to send) within [`REPLY_TIMEOUT`].
    TimedOut {
        /// The command, as the message names it.
        command: String,
    },
    /// The connection failed (a reset) during `command`.
    Broken {
        /// The command, as the message names it.
        command: String,
        /// What the connection said.
        error: io::Error,
    },
    /// `--show N` with N past the mailbox's last message (or 0).
    NoSuchMessage {
        /// The message number asked for.
        number: u32,
        /// How many messages the mailbox holds.
        count: u32,
    },
    /// A message (or literal) larger than [`MAX_MESSAGE`].
    TooLarge {
        /// The command whose answer was too large, as the message names it.
        command: String,
    },
    /// The server offers STARTTLS/STLS, but no trusted roots could be loaded: the
    /// password is not sent in clear for that (SPEC `read/4`).
    NoTrustedRoots {
        /// Why no roots could be read.
        why: String,
    },
    /// The TLS handshake failed: the certificate is not trusted or names another host,
    /// or the server does not speak TLS.
    Handshake {
        /// What the handshake said.
        error: io::Error,
    },
    /// The server sent bytes after its yes to STARTTLS/STLS and before the handshake:
    /// sent in clear, so anyone on the path may have put them there (RFC 9051 §11.1,
    /// RFC 2595 §3.1, as RFC 3207 §6 for SMTP).
    ClearTextBeforeHandshake,
    /// IMAP: the server says `LOGINDISABLED` and offers no STARTTLS: no way to log in.
    LoginDisabled,
}

impl Failure {
    /// Whether the dialogue is still in step, so that a LOGOUT or QUIT can end it: after
    /// an answer the client understood, not after a close, a timeout or garbage.
    pub fn can_end_politely(&self) -> bool {
        matches!(
            self,
            Failure::Refused { .. }
                | Failure::NoSuchMessage { .. }
                | Failure::NoTrustedRoots { .. }
                | Failure::LoginDisabled
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused { command, answer } => {
                write!(
                    f,
                    "{command}: the server answered \"{}\"",
                    printable(answer)
                )
            }
            Failure::Malformed { command, why } => {
                write!(f, "{command}: unexpected answer from the server: {why}")
            }
            Failure::Closed { command } => write!(
                f,
                "{command}: the server closed the connection before answering"
            ),
            Failure::TimedOut { command } => write!(
                f,
                "{command}: no answer within {} s",
                REPLY_TIMEOUT.as_secs()
            ),
            Failure::Broken { command, error } => write!(f, "{command}: {error}"),
            Failure::NoSuchMessage { number, count } => match count {
                0 => write!(f, "there is no message {number}: the mailbox is empty"),
                _ => write!(
                    f,
                    "there is no message {number}: the mailbox has messages 1 to {count}"
                ),
            },
            Failure::TooLarge { command } => write!(
                f,
                "{command}: a message larger than {} MiB; not read",
                MAX_MESSAGE >> 20
            ),
            Failure::NoTrustedRoots { why } => write!(
                f,
                "the server offers TLS, but no certificate can be verified ({why}); the \
                 password is not sent in clear"
            ),
            Failure::Handshake { error } => write!(f, "TLS handshake failed: {error}"),
            Failure::ClearTextBeforeHandshake => write!(
                f,
                "the server sent data before the TLS handshake (it could have been \
                 injected); stopping"
            ),
            Failure::LoginDisabled => write!(
                f,
                "the server refuses to log in in clear (LOGINDISABLED) and offers no \
                 STARTTLS: try --tls"
            ),
        }
    }
}

/// A server's text without control characters: it must not drive the user's terminal.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
