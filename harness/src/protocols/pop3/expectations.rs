//! What the POP3 pack adds to `expect_received` on its server peer: `pop3_session = {
//! read_only, quit }`, judged once every session of the peer has ended (the client quit
//! or closed).
//!
//! - `read_only = true`: reading deleted nothing (SPEC read/3): no `DELE` sent, even one
//!   undone by `RSET` (a POP3 server may still mark what `RETR` read as seen: that is
//!   the server's, not the client's);
//! - `quit = true`: every session ended with `QUIT` (RFC 1939 §6), not a bare close;
//! - `logged_in = true`: some session logged in (the password was accepted).
//!
//! ```toml
//! [[step]]
//! expect_received = "pop"
//! pop3_session = { read_only = true, quit = true }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::record::Pop3Session;
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::StepResult;
use crate::protocols::mailstore::judge_logins;
use crate::protocols::sessions::{mismatch, once_over};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::Capture;

/// `pop3_session = { ... }`.
pub(super) const POP3_SESSION: ExpectationKind = ExpectationKind {
    key: "pop3_session",
    load: load_pop3_session,
    schema: |generator| generator.subschema_for::<Pop3SessionExpectation>(),
    judges_whole_stdout: true,
};

/// `pop3_session = { read_only = true, quit = true, logged_in = true }`: each `true`
/// is judged, a `false` (or none) is not.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Pop3SessionExpectation {
    /// No `DELE` sent.
    #[serde(default)]
    pub read_only: bool,
    /// Every session ended with `QUIT`.
    #[serde(default)]
    pub quit: bool,
    /// Some session logged in.
    #[serde(default)]
    pub logged_in: bool,
    /// No session even tried to log in: the password never left the program (a
    /// certificate it had to refuse).
    #[serde(default)]
    pub no_login: bool,
}

#[derive(Debug)]
struct Pop3SessionJudged {
    server: String,
    expectation: Pop3SessionExpectation,
}

fn load_pop3_session(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = Pop3SessionExpectation::deserialize(input.value)?;
    let server = input
        .step
        .server_speaking(super::PACK.key, "pop3_session")?;
    if !(expectation.read_only || expectation.quit || expectation.logged_in || expectation.no_login)
    {
        return Err("`pop3_session` judges nothing unless one of its fields is true".into());
    }
    Ok(Arc::new(Pop3SessionJudged {
        server,
        expectation,
    }))
}

impl ProtocolExpectation for Pop3SessionJudged {
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
            |sessions: &[Pop3Session]| {
                judge_pop3_session(sessions, &self.expectation).map_err(mismatch)
            },
        )
    }
}

/// Judges the sessions; `Err((expected, seen))` names the first thing that does not hold.
pub(super) fn judge_pop3_session(
    sessions: &[Pop3Session],
    expected: &Pop3SessionExpectation,
) -> Result<(), (String, String)> {
    let logins = sessions.iter().flat_map(|session| &session.logins);
    judge_logins(
        logins,
        expected.logged_in,
        expected.no_login,
        "USER and PASS",
    )?;
    if expected.read_only {
        for (index, session) in sessions.iter().enumerate() {
            if let Some(number) = session.deleted.first() {
                return Err((
                    "reading to change nothing on the server (SPEC read/3): no DELE".into(),
                    format!("connection {}: `DELE {number}`", index + 1),
                ));
            }
        }
    }
    if expected.quit
        && let Some(index) = sessions.iter().position(|session| !session.quit)
    {
        return Err((
            "every session to end with QUIT (RFC 1939 §6)".into(),
            format!("connection {} closed without QUIT", index + 1),
        ));
    }
    Ok(())
}
