//! The SMTP pack: the harness as a mail server that a submitted `smtp-client` delivers
//! to, and the judges of what it delivered.
//!
//! - [`server`]: the peer, speaking enough SMTP (RFC 5321) for any client, with STARTTLS
//!   and AUTH when the scenario offers them;
//! - [`record`]: what it saw, session by session (and what crossed in clear, for
//!   `never_in_clear`);
//! - [`expectations`] and [`judge`]: `commands = [...]` and `mail = { ... }` on
//!   `expect_received`;
//! - [`dialogue_check`] and [`deliver_check`]: the `smtp-dialogue` and `smtp-deliver`
//!   checks, the harness as the client of a submitted mail server.
//!
//! ```toml
//! [[step]]
//! listen = "mta"
//! smtp = { starttls = true, auth = true, replies = { RCPT = 550 } }
//! ```

mod archive;
mod command;
mod deliver_check;
mod dialogue_check;
mod expectations;
mod judge;
mod record;
mod server;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::{ListenShape, Loaded, Login, OptionsInput, Pack, ServerOptions};
use crate::peers::{
    Conversation, ProtocolRecord, ProtocolScript, ProtocolServer, Served, Transport,
};

/// The pack, for the registry (`super::REGISTRY`).
pub(super) const PACK: Pack = Pack {
    key: "smtp",
    server: Some(ServerOptions {
        key: "smtp",
        load,
        schema: |generator| generator.subschema_for::<SmtpScript>(),
        keeps_clear_text: <record::SmtpSession as super::sessions::Session>::KEEPS_CLEAR_TEXT,
    }),
    expectations: &[expectations::COMMANDS, expectations::MAIL],
    checks: &[dialogue_check::KIND, deliver_check::KIND],
    client: None,
    setting: None,
    login: Some(Login {
        protocol: "SMTP",
        tasks: &["smtp-client", "mail-archive"],
        refusal: super::accounts::carries_any,
    }),
};

/// What the mail server peer offers, and the replies a scenario forces.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SmtpScript {
    /// Offer `STARTTLS` in the `EHLO` reply.
    #[serde(default)]
    pub starttls: bool,
    /// Offer `AUTH PLAIN LOGIN` (after TLS only, when `starttls` is offered too).
    #[serde(default)]
    pub auth: bool,
    /// A reply code per command verb (`RCPT = 550`), instead of the normal one; `"."`
    /// is the reply to the message itself, after its final `.` line (`"." = 552`), and
    /// `greeting` replaces the `220` greeting (`greeting = 554`: no service, `503` to
    /// every command but `QUIT`; `greeting = 421`: the connection closes).
    #[serde(default)]
    pub replies: BTreeMap<String, u16>,
    /// Write every reply one byte per TCP segment: a client must read each reply up to
    /// its end, not take one `recv` for one reply.
    #[serde(default)]
    pub byte_replies: bool,
}

/// Checks that a mail server goes with the rest of its `listen` step.
fn load(input: OptionsInput<'_, '_, ListenShape>) -> Loaded<Arc<dyn ProtocolScript>> {
    let script = SmtpScript::deserialize(input.value)?;
    let shape = input.step;
    if shape.transport != Transport::Tcp || shape.reply || shape.read_until.is_some() {
        return Err(
            "`smtp` plays a mail server: TCP, without `reply`, `read_until` or `origin`".into(),
        );
    }
    if let Some(code) = script.replies.get(server::GREETING)
        && !(400..600).contains(code)
    {
        return Err(format!(
            "`replies = {{ greeting = {code} }}`: a greeting that refuses is a 4xx or 5xx (554, 421); the normal one is 220"
        )
        .into());
    }
    if shape.slices {
        return Err(
            "`slices` cuts a TCP answer (`reply` or `origin`) into pieces; a mail server peer has `byte_replies`"
                .into(),
        );
    }
    Ok(Arc::new(script))
}

impl ProtocolScript for SmtpScript {
    fn describe(&self) -> String {
        let mut offers = Vec::new();
        if self.starttls {
            offers.push("STARTTLS".to_owned());
        }
        if self.auth {
            offers.push("AUTH".to_owned());
        }
        let mut text = "playing a mail server".to_owned();
        if !offers.is_empty() {
            text += &format!(" that offers {}", offers.join(" and "));
        }
        for (verb, code) in &self.replies {
            text += &match verb.as_str() {
                server::GREETING => format!("; it greets with {code}"),
                "." => format!("; it answers the message (after its final `.`) with {code}"),
                verb => format!("; it answers {verb} with {code}"),
            };
        }
        if self.byte_replies {
            text += "; every reply one byte per segment";
        }
        text
    }

    fn offers_tls(&self) -> bool {
        self.starttls
    }

    fn tls_port_too(&self) -> bool {
        true
    }

    fn start(&self, _settings: &crate::settings::RunSettings) -> Arc<dyn ProtocolServer> {
        Arc::new(MailServer {
            script: self.clone(),
            sessions: record::Sessions::default(),
        })
    }
}

/// One running mail server peer.
#[derive(Debug)]
struct MailServer {
    script: SmtpScript,
    sessions: record::Sessions,
}

impl ProtocolServer for MailServer {
    fn record(&self) -> &dyn ProtocolRecord {
        let sessions: &Mutex<Vec<record::SmtpSession>> = &self.sessions;
        sessions
    }

    fn converse(self: Arc<Self>, conversation: Conversation) -> Served {
        Box::pin(server::serve(
            conversation,
            self.script.clone(),
            Arc::clone(&self.sessions),
        ))
    }
}
