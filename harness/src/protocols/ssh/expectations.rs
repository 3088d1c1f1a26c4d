//! What the SSH pack adds to the `expect_*` steps.
//!
//! - `ssh_session = { ... }` on `expect_received` of the SSH peer, judged once a client
//!   connected and every connection has ended (a password sent fails at once):
//!   - `no_credentials = true`: no connection sent a password or a key's signature
//!     (SPEC ssh/2: the host key was unknown or changed, so the client must stop after
//!     the key exchange); a public key merely offered is no secret;
//!   - `one_connection = true`: exactly one connection logged in, and every command
//!     ran over it (SPEC ssh/1);
//!   - `logged_in = true`: some connection logged in.
//! - `ssh_figures = { server = "ssh" }` on the program's `expect_stdout`: the remote
//!   machine's figures, one labelled line each, and no other text ([`super::figures`];
//!   SPEC ssh/1 and the conventions: stdout is data).
//!
//! ```toml
//! [[step]]
//! expect_received = "ssh"
//! ssh_session = { no_credentials = true }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::figures;
use super::record::{SshConnection, SshRecord};
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::{StepFailure, StepResult};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::world::capture::{Capture, OutputStream};

/// `ssh_session = { ... }`.
pub(super) const SSH_SESSION: ExpectationKind = ExpectationKind {
    key: "ssh_session",
    load: load_session,
    schema: |generator| generator.subschema_for::<SshSessionExpectation>(),
    judges_whole_stdout: true,
};

/// `ssh_figures = { server = "ssh" }`.
pub(super) const SSH_FIGURES: ExpectationKind = ExpectationKind {
    key: "ssh_figures",
    load: load_figures,
    schema: |generator| generator.subschema_for::<SshFiguresExpectation>(),
    judges_whole_stdout: true,
};

/// `ssh_session = { no_credentials, one_connection, logged_in }`: each `true` is judged.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SshSessionExpectation {
    /// No password and no key signature was sent, on any connection.
    #[serde(default)]
    pub no_credentials: bool,
    /// One connection logged in and ran every command.
    #[serde(default)]
    pub one_connection: bool,
    /// Some connection logged in.
    #[serde(default)]
    pub logged_in: bool,
}

/// `ssh_figures = { server = "ssh" }`: stdout gives the figures of that peer's machine.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SshFiguresExpectation {
    /// The SSH peer whose remote machine's figures are expected.
    pub server: String,
}

#[derive(Debug)]
struct SessionJudged {
    server: String,
    expectation: SshSessionExpectation,
}

#[derive(Debug)]
struct FiguresJudged {
    server: String,
}

fn load_session(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = SshSessionExpectation::deserialize(input.value)?;
    let server = input.step.server_speaking(super::PACK.key, "ssh_session")?;
    let SshSessionExpectation {
        no_credentials,
        one_connection,
        logged_in,
    } = expectation;
    if !(no_credentials || one_connection || logged_in) {
        return Err("`ssh_session` judges nothing unless a field is true".into());
    }
    if no_credentials && (one_connection || logged_in) {
        return Err("`ssh_session`: `no_credentials` cannot go with logging in".into());
    }
    Ok(Arc::new(SessionJudged {
        server,
        expectation,
    }))
}

fn load_figures(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let expectation = SshFiguresExpectation::deserialize(input.value)?;
    let shape = input.step;
    if shape.stream != Some(OutputStream::Stdout) {
        return Err("`ssh_figures` judges a program's stdout".into());
    }
    if shape.speaking.get(&expectation.server) != Some(&super::PACK.key) {
        return Err(format!(
            "`ssh_figures.server`: `{}` is no `listen` peer with `ssh`",
            expectation.server
        )
        .into());
    }
    Ok(Arc::new(FiguresJudged {
        server: expectation.server,
    }))
}

/// The SSH peer's record, from the facts.
fn record<'f>(facts: &'f dyn Facts, server: &str) -> Option<&'f SshRecord> {
    crate::protocols::record_of(facts, server)
}

impl ProtocolExpectation for SessionJudged {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        _: &Capture,
        _: bool,
    ) -> StepResult<Evaluation> {
        let connections = record(facts, &self.server)
            .map(SshRecord::connections)
            .unwrap_or_default();
        // A password or signature sent cannot be taken back: that fails at once, before
        // anything the program does after it.
        let leaked = self.expectation.no_credentials
            && connections.iter().any(|connection| {
                connection
                    .attempts
                    .iter()
                    .any(|attempt| attempt.sent_secret)
            });
        if !leaked && (connections.is_empty() || connections.iter().any(|c| !c.ended)) {
            return Ok(Evaluation::Pending {
                expected: format!("{where_}: a client to finish its SSH connection"),
                seen: if connections.is_empty() {
                    "no client connected".into()
                } else {
                    "a connection still open".into()
                },
            });
        }
        judge_session(&connections, &self.expectation).map_err(|mut failure| {
            failure.expected = format!("{where_}: {}", failure.expected);
            failure
        })?;
        Ok(Evaluation::Holds { settle: false })
    }
}

/// Judges the connections; the failure names the first thing that does not hold.
pub(super) fn judge_session(
    connections: &[SshConnection],
    expected: &SshSessionExpectation,
) -> StepResult<()> {
    if expected.no_credentials
        && let Some((number, connection)) =
            connections.iter().enumerate().find(|(_, connection)| {
                connection
                    .attempts
                    .iter()
                    .any(|attempt| attempt.sent_secret)
            })
    {
        let sent: Vec<String> = connection
            .attempts
            .iter()
            .filter(|attempt| attempt.sent_secret)
            .map(|attempt| format!("{} for {}", attempt.detail, attempt.user))
            .collect();
        return Err(StepFailure::fail(
            "the host key refused before any password or key signature is sent: it is unknown or changed in ~/.ssh/known_hosts (SPEC ssh/2, RFC 4251 §4.1)",
            format!(
                "connection {} went on to authenticate after the key exchange and sent {}: the server was trusted without checking its key (paramiko's AutoAddPolicy, or Transport.connect without a host key)",
                number + 1,
                sent.join(", ")
            ),
        ));
    }
    let logged_in: Vec<usize> = connections
        .iter()
        .enumerate()
        .filter(|(_, connection)| connection.logged_in())
        .map(|(number, _)| number)
        .collect();
    if (expected.logged_in || expected.one_connection) && logged_in.is_empty() {
        let tried: Vec<String> = connections
            .iter()
            .flat_map(|connection| &connection.attempts)
            .map(|attempt| format!("{} ({})", attempt.method, attempt.detail))
            .collect();
        return Err(StepFailure::fail(
            "the client to log in",
            if tried.is_empty() {
                format!(
                    "{} connection(s), none went on to authenticate after the key exchange (was the host key refused?)",
                    connections.len()
                )
            } else {
                format!("refused: {}", tried.join(", "))
            },
        ));
    }
    if expected.one_connection {
        let ran: Vec<String> = connections
            .iter()
            .enumerate()
            .filter(|(_, connection)| !connection.commands.is_empty())
            .map(|(number, connection)| {
                let commands: Vec<String> = connection
                    .commands
                    .iter()
                    .map(|command| format!("`{}`", command.command))
                    .collect();
                format!("connection {}: {}", number + 1, commands.join(", "))
            })
            .collect();
        if logged_in.len() > 1 || ran.len() != 1 {
            return Err(StepFailure::fail(
                "every command over one SSH connection: one key exchange and one login, a channel per command (SPEC ssh/1)",
                if ran.is_empty() {
                    format!("{} logins, no command run", logged_in.len())
                } else {
                    format!("{} logins; {}", logged_in.len(), ran.join("; "))
                },
            ));
        }
    }
    Ok(())
}

impl ProtocolExpectation for FiguresJudged {
    fn evaluate(
        &self,
        facts: &dyn Facts,
        where_: &str,
        capture: &Capture,
        is_final: bool,
    ) -> StepResult<Evaluation> {
        let Some(record) = record(facts, &self.server) else {
            return Err(StepFailure::fail(
                format!("{where_}: the figures of `{}`'s machine", self.server),
                "no such SSH peer ran",
            ));
        };
        let text = String::from_utf8_lossy(&capture.head(1 << 20)).into_owned();
        let local = figures::local_machine();
        match figures::judge(&text, &record.remote, local.as_ref()) {
            None => Ok(Evaluation::SoFarSoGood),
            Some((expected, seen)) if !is_final => Ok(Evaluation::Pending {
                expected: format!("{where_}: {expected}"),
                seen,
            }),
            Some((expected, seen)) => Err(StepFailure::fail(format!("{where_}: {expected}"), seen)),
        }
    }
}
