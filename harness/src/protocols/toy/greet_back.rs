//! `greet-back`: the harness greets a submitted greeting server as `ada`, and its answer
//! must be `HI ADA`, within a second (and the time the server waited for a processor, as
//! every deadline: `crate::waiting::Deadline`).

use std::time::Duration;

use crate::outcome::{StepFailure, harness_trouble};
use crate::protocols::checks::{CheckContext, CheckKind, params_of, server_or_default};
use crate::transcript::Direction;
use crate::waiting::Deadline;
use crate::wire::{Flow, FlowEnd, Protocol};

/// The check's name in scenario files.
const NAME: &str = "greet-back";
/// The greeting socket's name in the transcript.
const LABEL: &str = "greeter";
/// What the harness sends, and the answer it expects.
const GREETING: &[u8] = b"HELLO ada";
const ANSWER: &[u8] = b"HI ADA";

/// The check, for the pack's `checks`.
pub(super) const KIND: CheckKind = CheckKind {
    name: NAME,
    validate: |params, _| {
        // It greets a program the scenario started: it starts none itself.
        params_of::<Params>(NAME, params)?;
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
    let params: Params =
        params_of(NAME, params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let server = server_or_default(params.server);
    let (socket, target) = crate::protocols::checks::datagrams_to(run, &server).await?;
    // The greeting and its answer in the transcript, as the program's own datagrams are.
    let transcript = run.transcript();
    transcript.name_program(LABEL, &server);
    let local = socket
        .local_addr()
        .map_err(|error| harness_trouble(format!("cannot read the socket's address: {error}")))?;
    let flow = |program| {
        transcript.flow(Flow::opened_by_harness(
            LABEL,
            Protocol::Udp,
            FlowEnd::harness(LABEL, local),
            transcript.program_end(LABEL, program),
        ))
    };
    socket
        .send_to(GREETING, target)
        .await
        .map_err(|error| harness_trouble(format!("cannot send the greeting: {error}")))?;
    transcript.datagram(flow(target), Direction::ToProgram, GREETING);

    let expected = "the answer `HI ADA` to `HELLO ada`";
    let mut deadline = Deadline::start(&*run, Duration::from_secs(1));
    let mut buffer = [0u8; 512];
    loop {
        match tokio::time::timeout(deadline.left(), socket.recv_from(&mut buffer)).await {
            Ok(Ok((size, sender))) => {
                let answer = &buffer[..size];
                transcript.datagram(flow(sender), Direction::FromProgram, answer);
                return if answer == ANSWER {
                    Ok(())
                } else {
                    Err(StepFailure::fail(
                        expected,
                        crate::judge::diff::excerpt(answer),
                    ))
                };
            }
            Ok(Err(error)) => {
                return Err(harness_trouble(format!("cannot read the answer: {error}")));
            }
            Err(_) if deadline.passed(&*run) => {
                return Err(StepFailure::fail(
                    expected,
                    format!("no answer {}", deadline.describe()),
                ));
            }
            Err(_) => {}
        }
    }
}
