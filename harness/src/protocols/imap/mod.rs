//! The IMAP pack: the harness as an IMAP server that a submitted `imap-read` reads mail
//! from (SPEC read/1–4), and the judges of what the client did there.
//!
//! - [`server`]: the peer, speaking enough IMAP4rev1 (RFC 3501, and the parts of RFC 9051
//!   a reader meets) for Python's `imaplib` and curl, in clear, offering `STARTTLS`, or
//!   with TLS from the first byte (IMAPS, RFC 8314);
//! - [`record`]: what it saw, session by session: every command, the logins, each `\Seen`
//!   set, each `STORE` and expunge, and what crossed in clear (for `never_in_clear`);
//! - [`expectations`]: `imap_session = { read_only, logout }` on `expect_received`.
//!
//! The mailbox is one of the seeded mailboxes of `super::mailstore` (`inbox`,
//! `attachment-only`, `empty`), served as `INBOX`.
//!
//! ```toml
//! [[step]]
//! listen = "imap"
//! imap = { user = "alice", password = "s3cret", mailbox = "inbox", tls = "starttls" }
//!
//! [[step]]
//! expect_received = "imap"
//! imap_session = { read_only = true, logout = true }
//! never_in_clear = { password = "s3cret" }
//! ```
//!
//! Options: `user` and `password` (the only login accepted), `mailbox` (default `inbox`),
//! `tls` = `"none"` | `"starttls"` | `"implicit"`.

mod expectations;
mod fetch_items;
mod record;
mod server;
pub(super) mod syntax;

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::mailstore::{Certificate, MAILBOX_NAMES, MailTls, seeded};
use super::{ListenShape, Loaded, Login, OptionsInput, Pack, ServerOptions};
use crate::peers::{Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "imap",
    server: Some(ServerOptions {
        key: "imap",
        load,
        schema: |generator| generator.subschema_for::<ImapScript>(),
        keeps_clear_text: <record::ImapSession as super::sessions::Session>::KEEPS_CLEAR_TEXT,
    }),
    expectations: &[expectations::IMAP_SESSION],
    checks: &[],
    client: None,
    setting: None,
    login: Some(Login {
        protocol: "IMAP",
        tasks: &["imap-read"],
        refusal: super::accounts::line_refusal,
    }),
};

/// The IMAP server peer's account, mailbox and TLS.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ImapScript {
    /// The user name it accepts.
    pub user: String,
    /// The password it accepts (any other: `NO [AUTHENTICATIONFAILED]`).
    pub password: String,
    /// The seeded mailbox served as `INBOX`: `inbox`, `attachment-only` or `empty`.
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// `none` (in clear only), `starttls` (in clear, offering STARTTLS), or `implicit`
    /// (TLS from the first byte, IMAPS).
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

/// Checks that an IMAP server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = ImapScript::deserialize(input.value)?;
    input.step.tcp_dialogue_only("imap", "an IMAP server")?;
    if seeded(&script.mailbox).is_none() {
        return Err(format!(
            "`imap.mailbox` names a seeded mailbox: one of {}",
            MAILBOX_NAMES.join(", ")
        )
        .into());
    }
    if script.user.is_empty() || script.password.is_empty() {
        return Err("`imap.user` and `imap.password` cannot be empty".into());
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for ImapScript {
    fn describe(&self) -> String {
        let count = seeded(&self.mailbox).map_or(0, <[_]>::len);
        format!(
            "playing an IMAP server {} (user {}, mailbox `{}` as INBOX: {count} messages)",
            self.tls.describe(),
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
        Arc::new(ImapPeer {
            script: self.clone(),
            sessions: record::ImapSessions::default(),
            store: Arc::new(Mutex::new(
                messages
                    .iter()
                    .map(|message| server::ImapStored {
                        message,
                        flags: Vec::new(),
                    })
                    .collect(),
            )),
        })
    }
}

/// One running IMAP server peer: its mailbox (flags and expunges persist across
/// connections, as on a real server) and its record.
#[derive(Debug)]
struct ImapPeer {
    script: ImapScript,
    sessions: record::ImapSessions,
    store: server::ImapStore,
}

impl ProtocolServer for ImapPeer {
    fn record(&self) -> &dyn ProtocolRecord {
        let sessions: &Mutex<Vec<record::ImapSession>> = &self.sessions;
        sessions
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(server::serve(
            conversation,
            self.script.clone(),
            Arc::clone(&self.sessions),
            Arc::clone(&self.store),
        ))
    }
}

#[cfg(test)]
mod tests;
