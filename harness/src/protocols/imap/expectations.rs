//! What the IMAP pack adds to `expect_received` on its server peer: `imap_session = {
//! read_only, logout }`, judged once every session of the peer has ended (the client
//! logged out or closed).
//!
//! - `read_only = true`: reading changed nothing (SPEC read/3): no `\Seen` set (a body
//!   fetched without `PEEK` from a mailbox `SELECT`ed read-write), no `STORE`, nothing
//!   expunged;
//! - `logout = true`: every session ended with `LOGOUT`, not a bare close;
//! - `logged_in = true`: some session logged in (the password was accepted).
//!
//! ```toml
//! [[step]]
//! expect_received = "imap"
//! imap_session = { read_only = true, logout = true }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::record::ImapSession;
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::StepResult;
use crate::protocols::mailstore::judge_logins;
use crate::protocols::sessions::{mismatch, once_over};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::Capture;

/// `imap_session = { ... }`.
pub(super) const IMAP_SESSION: ExpectationKind = ExpectationKind {
    key: "imap_session",
    load: load_imap_session,
    schema: |generator| generator.subschema_for::<ImapSessionExpectation>(),
    judges_whole_stdout: true,
};

/// `imap_session = { read_only = true, logout = true, logged_in = true }`: each `true`
/// is judged, a `false` (or none) is not.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ImapSessionExpectation {
    /// No `\Seen` set, no `STORE`, nothing expunged.
    #[serde(default)]
    pub read_only: bool,
    /// Every session ended with `LOGOUT`.
    #[serde(default)]
    pub logout: bool,
    /// Some session logged in.
    #[serde(default)]
    pub logged_in: bool,
    /// No session even tried to log in: the password never left the program (a
    /// certificate it had to refuse).
    #[serde(default)]
    pub no_login: bool,
}

#[derive(Debug)]
struct ImapSessionJudged {
    server: String,
    expectation: ImapSessionExpectation,
}

fn load_imap_session(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = ImapSessionExpectation::deserialize(input.value)?;
    let server = input
        .step
        .server_speaking(super::PACK.key, "imap_session")?;
    if !(expectation.read_only
        || expectation.logout
        || expectation.logged_in
        || expectation.no_login)
    {
        return Err("`imap_session` judges nothing unless one of its fields is true".into());
    }
    Ok(Arc::new(ImapSessionJudged {
        server,
        expectation,
    }))
}

impl ProtocolExpectation for ImapSessionJudged {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        _: &Capture,
        _: bool,
    ) -> StepResult<Evaluation> {
        once_over(
            facts,
            &self.server,
            where_,
            true,
            |sessions: &[ImapSession]| {
                judge_imap_session(sessions, &self.expectation).map_err(mismatch)
            },
        )
    }
}

/// Judges the sessions; `Err((expected, seen))` names the first thing that does not hold.
pub(super) fn judge_imap_session(
    sessions: &[ImapSession],
    expected: &ImapSessionExpectation,
) -> Result<(), (String, String)> {
    let logins = sessions.iter().flat_map(|session| &session.logins);
    judge_logins(
        logins,
        expected.logged_in,
        expected.no_login,
        "LOGIN or AUTHENTICATE",
    )?;
    if expected.read_only {
        let wanted = "reading to change nothing on the server (SPEC read/3): EXAMINE, or BODY.PEEK; no \\Seen set, no STORE, nothing expunged";
        for (index, session) in sessions.iter().enumerate() {
            let connection = index + 1;
            if let Some(uid) = session.seen_set.first() {
                let how = session
                    .selected
                    .last()
                    .map(|(name, read_only)| {
                        format!("{} {name}", if *read_only { "EXAMINE" } else { "SELECT" })
                    })
                    .unwrap_or_default();
                return Err((
                    wanted.into(),
                    format!(
                        "connection {connection}: \\Seen set on the message with UID {uid} (after {how}, a FETCH without PEEK, or a STORE)"
                    ),
                ));
            }
            if let Some(store) = session.stores.first() {
                return Err((wanted.into(), format!("connection {connection}: `{store}`")));
            }
            if let Some(uid) = session.expunged.first() {
                return Err((
                    wanted.into(),
                    format!("connection {connection}: the message with UID {uid} expunged"),
                ));
            }
        }
    }
    if expected.logout
        && let Some(index) = sessions.iter().position(|session| !session.logged_out)
    {
        return Err((
            "every session to end with LOGOUT".into(),
            format!("connection {} closed without LOGOUT", index + 1),
        ));
    }
    Ok(())
}
