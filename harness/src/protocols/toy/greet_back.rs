//! `greet-back`: the harness greets a submitted greeting server as `ada`, and its answer
//! must be `HI ADA`, within a second.

use std::time::Duration;

use crate::outcome::{StepFailure, harness_trouble};
use crate::protocols::checks::{CheckContext, CheckKind, params_of, server_or_default};

/// The check, for the pack's `checks`.
pub(super) const KIND: CheckKind = CheckKind {
    name: "greet-back",
    validate: |params, _| {
        // It greets a program the scenario started: it starts none itself.
        params_of::<Params>("greet-back", params)?;
        Ok(Vec::new())
    },
    real_only: None,
    schema: |generator| generator.subschema_for::<Params>(),
    run: |context, params| Box::pin(run(context, params)),
};

/// `params = { server = "server" }`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Params {
    /// The started program greeted (default `server`).
    server: Option<String>,
}

async fn run(run: &mut dyn CheckContext, params: &toml::Table) -> Result<(), StepFailure> {
    let params: Params = params_of("greet-back", params)
        .map_err(|error| StepFailure::fail("valid parameters", error))?;
    let (host, port) = run.endpoint_address(&server_or_default(params.server))?;
    let net = run.peer_net();
    let socket = net
        .bind_udp()
        .await
        .map_err(|error| harness_trouble(format!("cannot bind a UDP socket: {error}")))?;
    let target = net
        .resolve(&host, port)
        .await
        .map_err(|error| harness_trouble(format!("cannot resolve {host}: {error}")))?;
    socket
        .send_to(b"HELLO ada", target)
        .await
        .map_err(|error| harness_trouble(format!("cannot send the greeting: {error}")))?;
    run.note("sent `HELLO ada`".into());
    let mut buffer = [0u8; 512];
    let expected = "the answer `HI ADA` to `HELLO ada`";
    match tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buffer)).await {
        Ok(Ok((size, _))) if &buffer[..size] == b"HI ADA" => Ok(()),
        Ok(Ok((size, _))) => Err(StepFailure::fail(
            expected,
            crate::judge::diff::excerpt(&buffer[..size]),
        )),
        Ok(Err(error)) => Err(StepFailure::fail(expected, format!("no answer: {error}"))),
        Err(_) => Err(StepFailure::fail(expected, "no answer within 1 s")),
    }
}
