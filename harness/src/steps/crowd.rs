//! `crowd = "server"`: many clients at once (SPEC calc/4: "200 concurrent clients all
//! answered"). The clients come one by one, and each must be answered while all those
//! before it stay connected; then they all send again at the same moment and must all be
//! answered again (see `Crowd::play`).
//!
//! ```toml
//! [[step]]
//! crowd = "{role}"
//! clients = 200
//! send = { text = "6 * 7\n" }
//! line = { number = 42 }
//! within_ms = 15000
//! ```
//!
//! The clients are not in the transcript one by one (200 connections would drown it):
//! the step log says how many connected and were answered, and a failure names the
//! first clients that were not, and why.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::expect_line::MAX_LINE;
use super::{LoadError, LoadInput, StepAction, StepContext, StepFuture, StepKind};
use crate::judge::line::{LineExpectation, LineSpec, first_line};
use crate::outcome::StepFailure;
use crate::payload::{Payload, PayloadSpec};
use crate::world::sockets::{PeerConnection, PeerNet};

pub(crate) const KIND: StepKind = StepKind {
    key: "crowd",
    load,
    schema: super::schema_of::<RawCrowd>,
};

/// The most clients one step opens: each is a socket of the harness and of the program.
const MAX_CLIENTS: u32 = 2_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawCrowd {
    crowd: String,
    clients: u32,
    send: PayloadSpec,
    line: LineSpec,
    within_ms: Option<u64>,
}

#[derive(Debug)]
struct Crowd {
    target: String,
    clients: u32,
    send: Arc<Vec<u8>>,
    send_description: String,
    expectation: Arc<LineExpectation>,
    within: Duration,
}

fn load(input: LoadInput<'_, '_>) -> Result<Arc<dyn StepAction>, LoadError> {
    let raw = RawCrowd::deserialize(input.table)?;
    let target = input.names.listener(&raw.crowd)?;
    if !(2..=MAX_CLIENTS).contains(&raw.clients) {
        return Err(format!("`clients` is 2 to {MAX_CLIENTS}").into());
    }
    let send: Payload = raw.send.resolve(input.kit_root)?;
    if send.len() > MAX_LINE as u64 {
        return Err(format!("a crowd's clients send at most {MAX_LINE} bytes each").into());
    }
    let mut bytes = vec![0; send.len() as usize];
    let filled = send
        .read_at(0, &mut bytes)
        .map_err(|error| format!("cannot read the payload: {error}"))?;
    bytes.truncate(filled);
    Ok(Arc::new(Crowd {
        target,
        clients: raw.clients,
        send: Arc::new(bytes),
        send_description: send.describe(),
        expectation: Arc::new(raw.line.check()?),
        within: super::within(raw.within_ms),
    }))
}

impl StepAction for Crowd {
    fn describe(&self) -> String {
        format!(
            "{} clients connect to {} one by one and stay connected, each sends {} and receives {}, then all again at once (within {} ms)",
            self.clients,
            self.target,
            self.send_description,
            self.expectation.describe(),
            self.within.as_millis()
        )
    }

    fn run<'a>(&'a self, context: &'a mut (dyn StepContext + Send)) -> StepFuture<'a> {
        Box::pin(async move {
            let (host, port) = context.address(&self.target)?;
            let net = context.net();
            let expected = format!(
                "each of {} clients connected at once to receive {}",
                self.clients,
                self.expectation.describe()
            );
            let answered = AtomicU32::new(0);
            // What the client waiting for its answer has received of it so far: `42`
            // without a line end is not "no answer".
            let partial = std::sync::Mutex::new(Vec::new());
            // At most `within`, and no longer once the program cannot answer any more. The
            // crowd first: what it has read and not yet taken, no look at the programs sees.
            let failures = tokio::select! {
                biased;
                failures = self.play(&net, &host, port, &answered, &partial) => failures,
                late = super::wait_in_vain(context, self.within) => {
                    let partial = partial.lock().map(|bytes| bytes.clone()).unwrap_or_default();
                    return Err(StepFailure::fail(
                        expected,
                        match answered.load(Ordering::Relaxed) {
                            count if count < self.clients => format!(
                                "{} {late}",
                                no_whole_answer(count + 1, &partial)
                            ),
                            _ => format!(
                                "every client was answered in turn, but not all of them once they sent at the same time {late}",
                            ),
                        },
                    ));
                }
            };
            if failures.is_empty() {
                context.note(format!("{} clients answered", self.clients));
                return Ok(());
            }
            Err(StepFailure::fail(
                expected,
                super::crowd_failure(&failures, format!("{} clients failed", self.clients)),
            ))
        })
    }
}

/// How long one client, alone in sending, may wait for its answer in the one-by-one
/// phase: a server answers one expression in milliseconds, so a client still waiting after
/// this is not being served (a server that serves one client at a time), and the scenario
/// need not wait out the whole crowd's deadline to say so.
const ONE_ANSWER_WITHIN: Duration = Duration::from_secs(5);

impl Crowd {
    /// Plays the crowd; returns what went wrong, one line per failed client.
    ///
    /// First the clients come one by one: each connects, sends, and must be answered
    /// while every client before it is still connected (a program that serves one client
    /// at a time answers the first and never the second). One connection at a time also
    /// spares a program with a short accept queue (`listen(5)`) a storm of SYNs it would
    /// drop. Then, all of them connected, every client sends again at the same moment and
    /// each must be answered again.
    async fn play(
        &self,
        net: &PeerNet,
        host: &str,
        port: u16,
        answered: &AtomicU32,
        partial: &std::sync::Mutex<Vec<u8>>,
    ) -> Vec<String> {
        let mut clients = Vec::with_capacity(self.clients as usize);
        for index in 1..=self.clients {
            let mut connection = match net.connect(host, port, true).await {
                Ok(connection) => connection,
                Err(error) => {
                    return vec![format!(
                        "client {index} could not connect ({} others connected): {error}",
                        index - 1
                    )];
                }
            };
            let mut pending = Vec::new();
            let answer_within = ONE_ANSWER_WITHIN.min(self.within);
            let exchanged = tokio::time::timeout(
                answer_within,
                exchange(
                    &self.send,
                    &self.expectation,
                    &mut connection,
                    &mut pending,
                    index,
                    Some(partial),
                ),
            )
            .await;
            match exchanged {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => return vec![failure],
                Err(_) => {
                    return vec![format!(
                        "{} within {} ms",
                        no_whole_answer(index, &pending),
                        answer_within.as_millis(),
                    )];
                }
            }
            answered.fetch_add(1, Ordering::Relaxed);
            clients.push((index, connection, pending));
        }
        // Everyone at once, while everyone is connected.
        let mut together = JoinSet::new();
        for (index, mut connection, mut pending) in clients {
            let (send, expectation) = (Arc::clone(&self.send), Arc::clone(&self.expectation));
            together.spawn(async move {
                let result = exchange(
                    &send,
                    &expectation,
                    &mut connection,
                    &mut pending,
                    index,
                    None,
                )
                .await;
                // Kept open until every client is done: none leaves early.
                (result, connection)
            });
        }
        let mut failures = Vec::new();
        let mut done = Vec::new();
        while let Some(result) = together.join_next().await {
            match result {
                Ok((Ok(()), connection)) => done.push(connection),
                Ok((Err(failure), connection)) => {
                    failures.push(format!("{failure} (all sending at once)"));
                    done.push(connection);
                }
                Err(error) => failures.push(format!("a client's task failed: {error}")),
            }
        }
        failures.sort();
        failures
    }
}

/// One client sends its line and reads the answer (what came beyond the line stays in
/// `pending` for the next exchange).
/// Client `index` of the one-by-one phase has no whole line: what it received, if
/// anything, while the clients before it stayed connected.
fn no_whole_answer(index: u32, received: &[u8]) -> String {
    let got = if received.is_empty() {
        "got no answer".to_owned()
    } else {
        format!(
            "received {} and no line end after it",
            crate::judge::diff::excerpt(received)
        )
    };
    match index - 1 {
        0 => format!("client 1 {got}"),
        before => format!("client {index} {got} while the {before} before it stayed connected"),
    }
}

async fn exchange(
    send: &[u8],
    expectation: &LineExpectation,
    connection: &mut PeerConnection,
    pending: &mut Vec<u8>,
    client: u32,
    partial: Option<&std::sync::Mutex<Vec<u8>>>,
) -> Result<(), String> {
    if let Some(partial) = partial
        && let Ok(mut shown) = partial.lock()
    {
        shown.clone_from(pending);
    }
    if let Err(error) = connection.writer.write_all(send).await {
        return Err(format!("client {client} could not send: {error}"));
    }
    let mut buffer = [0u8; 1024];
    loop {
        if let Some((line, taken)) = first_line(pending) {
            let line = String::from_utf8_lossy(line).into_owned();
            pending.drain(..taken);
            return if expectation.holds(&line) {
                Ok(())
            } else {
                Err(format!("client {client} received the line {line:?}"))
            };
        }
        if pending.len() > MAX_LINE {
            return Err(format!("client {client}: no line end in {MAX_LINE} bytes"));
        }
        match connection.reader.read(&mut buffer).await {
            Ok(0) => {
                return Err(format!(
                    "client {client}: the connection was closed before a whole line"
                ));
            }
            Ok(count) => {
                pending.extend_from_slice(&buffer[..count]);
                if let Some(partial) = partial
                    && let Ok(mut shown) = partial.lock()
                {
                    shown.clone_from(pending);
                }
            }
            Err(error) => return Err(format!("client {client}: {error}")),
        }
    }
}
