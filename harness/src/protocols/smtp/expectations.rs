//! What the SMTP pack adds to `expect_received` on its mail server peer: `commands =
//! [VERBS]` and `mail = { from, to, headers, subject, subject_contains, text, some_text,
//! attachments }`, judged by
//! [`super::judge`] once every session of the peer has ended (the client quit or closed).
//!
//! ```toml
//! [[step]]
//! expect_received = "mta"
//! mail = { from = "alice@example.com", to = ["bob@example.com"], subject = "Hi" }
//!
//! [[step]]
//! expect_received = "mta"
//! mail = { from = "a@x", to = ["b@y"], headers = { from = "a@x", to = ["b@y"] } }
//! ```

use std::sync::Arc;

use serde::Deserialize;

use super::judge::{
    AttachmentWanted, HeaderAddresses, MailExpectation, judge_commands, judge_mail,
};
use super::record::SmtpSession;
use crate::judge::bytes::Evaluation;
use crate::judge::output::{Facts, ProtocolExpectation};
use crate::outcome::StepResult;
use crate::payload::PayloadSpec;
use crate::protocols::sessions::{mismatch, once_over};
use crate::protocols::{ExpectationKind, ExpectationShape, Loaded, OptionsInput};
use crate::tree::Tree;
use crate::world::capture::Capture;

/// `commands = ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]`.
pub(super) const COMMANDS: ExpectationKind = ExpectationKind {
    key: "commands",
    load: load_commands,
    schema: |generator| generator.subschema_for::<Vec<String>>(),
    judges_whole_stdout: true,
};

/// `mail = { ... }`.
pub(super) const MAIL: ExpectationKind = ExpectationKind {
    key: "mail",
    load: load_mail,
    schema: |generator| generator.subschema_for::<RawMail>(),
    judges_whole_stdout: true,
};

/// `mail = { from = "a@x", to = ["b@y"], subject = "S", text = { ... }, attachments = [...] }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawMail {
    /// The envelope sender, `MAIL FROM:<a@x>`.
    from: Option<String>,
    /// The envelope recipients, one `RCPT TO` each, in any order.
    #[serde(default)]
    to: Vec<String>,
    /// The message's own `From:` and `To:` header fields: `headers = { from = "a@x", to =
    /// ["b@y"] }` (addresses, a display name allowed beside each).
    headers: Option<RawHeaders>,
    /// The whole subject, decoded.
    subject: Option<String>,
    /// Words the subject must hold (case aside): `subject_contains = "lab-notes"`.
    subject_contains: Option<String>,
    /// The text part, exactly.
    text: Option<PayloadSpec>,
    /// A text part with something in it, whatever it says.
    #[serde(default)]
    some_text: bool,
    /// The attachments, every one: no other is sent.
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

/// `headers = { from = "alice@example.com", to = ["prof@example.com"] }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawHeaders {
    /// The address `From:` holds.
    from: Option<String>,
    /// The addresses `To:` holds, in any order.
    #[serde(default)]
    to: Vec<String>,
}

/// `{ name = "photo.png", content = { file = "fixtures/payloads/photo.png" } }`, or
/// `{ name = "lab-notes.zip", unzips_to = "lab-notes" }` (a tree of `fixtures/trees/`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawAttachment {
    name: String,
    content: Option<PayloadSpec>,
    unzips_to: Option<String>,
}

fn load_commands(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let verbs = Vec::<String>::deserialize(input.value)?;
    let server = input.step.server_speaking(super::PACK.key, "commands")?;
    if verbs.is_empty() {
        return Err("`commands` lists the verbs the client must send".into());
    }
    let verbs = verbs.iter().map(|verb| verb.to_ascii_uppercase()).collect();
    Ok(Arc::new(CommandsSent { server, verbs }))
}

fn load_mail(
    input: OptionsInput<'_, '_, ExpectationShape<'_>>,
) -> Loaded<Arc<dyn ProtocolExpectation>> {
    let mail = RawMail::deserialize(input.value)?;
    let server = input.step.server_speaking(super::PACK.key, "mail")?;
    let kit_root = input.kit_root;
    let attachments = mail
        .attachments
        .into_iter()
        .map(|attachment| {
            let wanted = match (attachment.content, attachment.unzips_to) {
                (Some(content), None) => AttachmentWanted::Bytes(content.resolve(kit_root)?),
                (None, Some(tree)) => AttachmentWanted::Unzips(Tree::load(kit_root, &tree)?),
                _ => {
                    return Err(format!(
                        "attachment `{}`: give its `content` or the tree it `unzips_to`, one of them",
                        attachment.name
                    ));
                }
            };
            Ok((attachment.name, wanted))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let headers = match mail.headers {
        Some(headers) if headers.from.is_none() && headers.to.is_empty() => {
            return Err("`headers` names the `from` or `to` the header fields hold".into());
        }
        Some(RawHeaders { from, to }) => Some(HeaderAddresses { from, to }),
        None => None,
    };
    let expectation = MailExpectation {
        from: mail.from,
        to: mail.to,
        headers,
        subject: mail.subject,
        subject_contains: mail.subject_contains,
        text: mail.text.map(|spec| spec.resolve(kit_root)).transpose()?,
        some_text: mail.some_text,
        attachments,
    };
    Ok(Arc::new(MailDelivered {
        server,
        expectation,
    }))
}

/// The mail server peer `server` received these command verbs, in order, each line
/// ending in CRLF.
#[derive(Debug)]
struct CommandsSent {
    server: String,
    verbs: Vec<String>,
}

/// The mail server peer `server` received this one message.
#[derive(Debug)]
struct MailDelivered {
    server: String,
    expectation: MailExpectation,
}

impl ProtocolExpectation for CommandsSent {
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
            |sessions: &[SmtpSession]| judge_commands(sessions, &self.verbs).map_err(mismatch),
        )
    }
}

impl ProtocolExpectation for MailDelivered {
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
            |sessions: &[SmtpSession]| judge_mail(sessions, &self.expectation).map_err(mismatch),
        )
    }
}
