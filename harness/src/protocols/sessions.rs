//! What the session-keeping packs share, written once: the IMAP, POP3, SMTP and FTP peers
//! each record one [`Session`] per client connection, in a `Mutex<Vec<S>>` that their
//! conversations append to and their judges read.
//!
//! A pack says what a session of its protocol is (its [`Session`] impl: has it ended,
//! which logins it tried, which commands it sent, what crossed in clear); from that this
//! module gives every such record the generic peer's view of it (`ProtocolRecord`:
//! progress for the report, the clear text `never_in_clear` judges), and gives the judges
//! [`once_over`]: the sessions a server peer recorded, once every client is done with
//! it (until then a judge has nothing to say: the client may still be talking).

use std::any::Any;
use std::sync::Mutex;

use crate::judge::bytes::Evaluation;
use crate::judge::output::Facts;
use crate::outcome::{StepFailure, StepResult};
use crate::peers::{ClearConnection, Progress, ProtocolRecord};

/// One client connection to a pack's server peer, as its record keeps it.
pub(super) trait Session: Clone + Send + 'static {
    /// The protocol, in the words of "a client to finish its IMAP session".
    const PROTOCOL: &'static str;

    /// The client quit or closed: nothing more will be added.
    fn ended(&self) -> bool;

    /// Each login tried, in order: whether the server accepted it.
    fn logins_tried(&self) -> Vec<bool>;

    /// Each command's verb (`LOGIN`, `RETR`, `STOR`), in order.
    fn verbs(&self) -> Vec<String>;

    /// Its client began a TLS handshake (see `crate::peers::Progress::tls_handshakes`).
    fn began_tls(&self) -> bool {
        false
    }

    /// Whether [`Session::in_clear`] is kept: what `never_in_clear` can judge (the
    /// pack's `ServerOptions::keeps_clear_text`). FTP, which has no TLS here, keeps none.
    const KEEPS_CLEAR_TEXT: bool;

    /// What it let out where anyone on the way could read it.
    fn in_clear(&self) -> ClearConnection {
        ClearConnection::default()
    }

    /// Why the peer could not do its own part in it (open a data port, present its
    /// certificate), if it could not: the harness's trouble, never the client's.
    fn trouble(&self) -> Option<String> {
        None
    }
}

/// A copy of the sessions so far (a conversation that panicked leaves them as they were).
pub(super) fn copy_of<S: Session>(record: &Mutex<Vec<S>>) -> Vec<S> {
    record
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

impl<S: Session> ProtocolRecord for Mutex<Vec<S>> {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn progress(&self) -> Option<Progress> {
        let sessions = copy_of(self);
        Some(Progress {
            connections: sessions.len(),
            logins: sessions.iter().flat_map(Session::logins_tried).collect(),
            commands: sessions.iter().flat_map(Session::verbs).collect(),
            tls_handshakes: sessions
                .iter()
                .filter(|session| session.began_tls())
                .count(),
        })
    }

    fn in_clear(&self) -> Option<Vec<ClearConnection>> {
        S::KEEPS_CLEAR_TEXT.then(|| copy_of(self).iter().map(Session::in_clear).collect())
    }

    fn trouble(&self) -> Option<String> {
        copy_of(self).iter().find_map(Session::trouble)
    }
}

/// The sessions the server peer `server` recorded so far (none if it keeps no `S`).
pub(super) fn recorded<S: Session>(facts: &dyn Facts, server: &str) -> Vec<S> {
    super::record_of::<Mutex<Vec<S>>>(facts, server)
        .map(copy_of)
        .unwrap_or_default()
}

/// Judges the sessions `server` recorded with `judge`, once every client is done with it:
/// until one has connected (where `needs_a_session`) and all have ended, the verdict is
/// pending. `judge`'s `Err((expected, seen))` names the first thing that does not hold;
/// `where_` goes before what was expected.
pub(super) fn once_over<S: Session>(
    facts: &dyn Facts,
    server: &str,
    where_: &str,
    needs_a_session: bool,
    judge: impl FnOnce(&[S]) -> Result<(), StepFailure>,
) -> StepResult<Evaluation> {
    let sessions: Vec<S> = recorded(facts, server);
    if (sessions.is_empty() && needs_a_session) || sessions.iter().any(|session| !session.ended()) {
        return Ok(Evaluation::Pending {
            expected: format!("{where_}: a client to finish its {} session", S::PROTOCOL),
            seen: if sessions.is_empty() {
                "no client connected".into()
            } else {
                "a session still open".into()
            },
        });
    }
    judge(&sessions).map_err(|mut failure| {
        failure.expected = format!("{where_}: {}", failure.expected);
        failure
    })?;
    Ok(Evaluation::Holds { settle: false })
}

/// A judge's `(expected, seen)` as the failure [`once_over`] takes.
pub(super) fn mismatch((expected, seen): (String, String)) -> StepFailure {
    StepFailure::fail(expected, seen)
}

/// Whether each login of a session's `(user, accepted, inside TLS)` list was accepted:
/// [`Session::logins_tried`] of a pack that keeps its logins so.
pub(super) fn accepted(logins: &[(String, bool, bool)]) -> Vec<bool> {
    logins.iter().map(|(_, accepted, _)| *accepted).collect()
}

/// What a session let out in clear ([`Session::in_clear`]): `bytes`, and each of its
/// `commands` (`(verb, line, inside TLS)`) sent outside TLS whose verb is one of
/// `credentials`, which carries credentials whatever it holds (`LOGIN alice s3cret`,
/// `PASS s3cret`, `AUTH PLAIN ...`).
pub(super) fn clear_connection<'a>(
    commands: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    credentials: &[&str],
    bytes: &[u8],
    ended: bool,
) -> ClearConnection {
    ClearConnection {
        credentials_in_clear: commands
            .into_iter()
            .filter(|(verb, _, encrypted)| !encrypted && credentials.contains(verb))
            .map(|(_, line, _)| line.to_owned())
            .collect(),
        bytes: bytes.to_vec(),
        ended,
    }
}
