//! The POP3 pack: the harness as a POP3 server that a submitted `pop3-fetch` reads mail
//! from (SPEC read/1–4), and the judges of what the client did there.
//!
//! - [`server`]: the peer, speaking POP3 (RFC 1939) with `CAPA` (RFC 2449) and `STLS`
//!   (RFC 2595) for Python's `poplib` and curl, in clear, offering `STLS`, or with TLS
//!   from the first byte (POP3S, RFC 8314);
//! - [`record`]: what it saw, session by session: every command, the logins, each
//!   `DELE`, whether the client sent `QUIT`, and what crossed in clear (for
//!   `never_in_clear`);
//! - [`expectations`]: `pop3_session = { read_only, quit }` on `expect_received`.
//!
//! The maildrop is one of the seeded mailboxes of `super::mailstore` (`inbox`,
//! `attachment-only`, `empty`).
//!
//! ```toml
//! [[step]]
//! listen = "pop"
//! pop3 = { user = "alice", password = "s3cret", mailbox = "inbox", tls = "implicit" }
//!
//! [[step]]
//! expect_received = "pop"
//! pop3_session = { read_only = true, quit = true }
//! never_in_clear = { password = "s3cret" }
//! ```
//!
//! Options: `user` and `password` (the only login accepted), `mailbox` (default `inbox`),
//! `tls` = `"none"` | `"starttls"` (offers `STLS`) | `"implicit"`.

pub(super) mod command;
mod expectations;
mod record;
mod server;

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::mailstore::{Certificate, MAILBOX_NAMES, MailTls, seeded};
use super::{ListenShape, Loaded, Login, OptionsInput, Pack, ServerOptions};
use crate::peers::{Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "pop3",
    server: Some(ServerOptions {
        key: "pop3",
        load,
        schema: |generator| generator.subschema_for::<Pop3Script>(),
        keeps_clear_text: <record::Pop3Session as super::sessions::Session>::KEEPS_CLEAR_TEXT,
    }),
    expectations: &[expectations::POP3_SESSION],
    checks: &[],
    client: None,
    setting: None,
    login: Some(Login {
        protocol: "POP3",
        tasks: &["pop3-fetch"],
        refusal: super::accounts::line_refusal,
    }),
};

/// The POP3 server peer's account, maildrop and TLS.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Pop3Script {
    /// The user name it accepts.
    pub user: String,
    /// The password it accepts (any other: `-ERR [AUTH]`).
    pub password: String,
    /// The seeded mailbox served: `inbox`, `attachment-only` or `empty`.
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// `none` (in clear only), `starttls` (in clear, offering STLS), or `implicit` (TLS
    /// from the first byte, POP3S).
    pub tls: MailTls,
    /// `right` (default), or `another-name`: the TLS certificate is signed by the test
    /// CA but for `another-server.invalid`, which a client that checks must refuse
    /// before it sends the password (SPEC read/4).
    #[serde(default)]
    pub certificate: Certificate,
}

fn default_mailbox() -> String {
    "inbox".to_owned()
}

/// Checks that a POP3 server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = Pop3Script::deserialize(input.value)?;
    input.step.tcp_dialogue_only("pop3", "a POP3 server")?;
    if seeded(&script.mailbox).is_none() {
        return Err(format!(
            "`pop3.mailbox` names a seeded mailbox: one of {}",
            MAILBOX_NAMES.join(", ")
        )
        .into());
    }
    if script.user.is_empty() || script.password.is_empty() {
        return Err("`pop3.user` and `pop3.password` cannot be empty".into());
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for Pop3Script {
    fn describe(&self) -> String {
        let count = seeded(&self.mailbox).map_or(0, <[_]>::len);
        format!(
            "playing a POP3 server {} (user {}, mailbox `{}`: {count} messages)",
            self.tls.describe().replace("STARTTLS", "STLS"),
            self.user,
            self.mailbox
        )
    }

    fn offers_tls(&self) -> bool {
        self.tls != MailTls::None
    }

    fn tls_from_first_byte(&self) -> bool {
        self.tls == MailTls::Implicit
    }

    fn tls_port_too(&self) -> bool {
        self.tls != MailTls::Implicit
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        let messages = seeded(&self.mailbox).unwrap_or_default();
        Arc::new(Pop3Peer {
            script: self.clone(),
            sessions: record::Pop3Sessions::default(),
            maildrop: Arc::new(Mutex::new(messages.iter().collect())),
        })
    }
}

/// One running POP3 server peer: its maildrop (what a `QUIT` deleted stays deleted for
/// the next connection) and its record.
#[derive(Debug)]
struct Pop3Peer {
    script: Pop3Script,
    sessions: record::Pop3Sessions,
    maildrop: server::Pop3Maildrop,
}

impl ProtocolServer for Pop3Peer {
    fn record(&self) -> &dyn ProtocolRecord {
        let sessions: &Mutex<Vec<record::Pop3Session>> = &self.sessions;
        sessions
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(server::serve(
            conversation,
            self.script.clone(),
            Arc::clone(&self.sessions),
            Arc::clone(&self.maildrop),
        ))
    }
}

#[cfg(test)]
mod tests;
