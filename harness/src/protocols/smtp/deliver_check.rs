//! `smtp-deliver`: a real SMTP client library ([lettre](https://docs.rs/lettre)) delivers
//! a message with an attachment to a submitted `smtp-server` (SPEC smtpd/1).
//!
//! The library speaks SMTP as mail programs do (EHLO, then HELO if EHLO is refused, MAIL,
//! RCPT, DATA, its own dot-stuffing, QUIT) and fails on any reply it does not expect, so
//! a server that only works with its own client shows it here. The message is fixed: from
//! `alice@example.com` to `bob@example.com`, subject `Lab report`, a text part with a line
//! that starts with a dot, and `photo.png` (the web site's image) as an attachment. A
//! later step checks what the server printed.
//!
//! Real world only: the library opens real sockets.
//!
//! ```toml
//! [[step]]
//! check = "smtp-deliver"
//! params = { server = "server" }
//! ```

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::protocols::checks::{CheckContext, CheckKind};

use crate::outcome::StepFailure;

/// The check's name in scenario files.
pub(super) const NAME: &str = "smtp-deliver";

/// This check, for the pack's `checks`.
pub(crate) const KIND: CheckKind = CheckKind {
    name: NAME,
    validate: |params, _| {
        Params::parse(params)?;
        Ok(Vec::new())
    },
    real_only: Some("the real SMTP client library (lettre) opens real sockets, not simulated ones"),
    schema: |generator| generator.subschema_for::<SmtpDeliverParams>(),
    run: |context, params| Box::pin(run(context, params)),
};

/// The text part; its second line starts with a dot, which the library stuffs.
pub(super) const TEXT: &str = "Hello Bob,\n.this line starts with a dot\nAlice\n";
/// The attachment, from the kit.
pub(super) const ATTACHMENT: &str = "fixtures/www/pixel.png";

/// `params = { server = "server" }`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SmtpDeliverParams {
    /// The started mail server delivered to (default `server`).
    server: Option<String>,
}

/// Parameters.
#[derive(Debug, Clone)]
pub(super) struct Params {
    server: String,
}

impl Params {
    /// Reads and checks `params`.
    pub(super) fn parse(params: &toml::Table) -> Result<Params, String> {
        let raw: SmtpDeliverParams = crate::protocols::checks::params_of(NAME, params)?;
        Ok(Params {
            server: crate::protocols::checks::server_or_default(raw.server),
        })
    }
}

pub(crate) async fn run(
    run: &mut dyn CheckContext,
    params: &toml::Table,
) -> Result<(), StepFailure> {
    let params =
        Params::parse(params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let (host, port) = run.endpoint_address(&params.server)?;
    let kit_root = run.kit_root();
    let picture = std::fs::read(kit_root.join(ATTACHMENT)).map_err(|error| {
        crate::outcome::harness_trouble(format!("cannot read {ATTACHMENT}: {error}"))
    })?;
    let message = Message::builder()
        .from("Alice <alice@example.com>".parse().expect("valid address"))
        .to("Bob <bob@example.com>".parse().expect("valid address"))
        .subject("Lab report")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(TEXT.to_owned()))
                .singlepart(Attachment::new("photo.png".into()).body(
                    picture,
                    ContentType::parse("image/png").expect("valid type"),
                )),
        )
        .map_err(|error| {
            crate::outcome::harness_trouble(format!("cannot build the mail: {error}"))
        })?;
    // Plain SMTP on loopback: the lab's server has no TLS.
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    run.note(format!(
        "lettre delivers `Lab report` with photo.png to {host} port {port}"
    ));
    match transport.send(message).await {
        Ok(response) => {
            run.note(format!(
                "delivered: the server answered {} after the data",
                response.code()
            ));
            Ok(())
        }
        Err(error) => Err(StepFailure::fail(
            "a real SMTP client library (lettre) to deliver a message with an attachment",
            format!("it failed: {error}"),
        )),
    }
}
