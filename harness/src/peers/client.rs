//! The harness as a client: connects, sends a payload following a slice plan, reads what
//! comes back (optionally slowly), and ends with a half-close, a close or a reset. A kept
//! connection can send again ([`ClientPeer::send_more`]): a conversation, line by line.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, Notify, watch};

use super::read_pacing::ReadPacer;
use crate::faults::SlicePlan;
use crate::payload::Payload;
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, Protocol};
use crate::world::capture::Capture;
use crate::world::sockets::{PeerConnection, PeerNet, PeerWriter};

/// What one client connection does.
#[derive(Debug, Clone)]
pub struct ClientPlan {
    /// The connection's name in the scenario (`c1`).
    pub name: String,
    /// What to send.
    pub send: Payload,
    /// How to slice the writes.
    pub slices: SlicePlan,
    /// How to end after sending.
    pub then: CloseHow,
    /// How to slice the reads (a slow reader fills the program's send buffer).
    pub read_slices: SlicePlan,
}

/// A connection of the harness to the program under test.
#[derive(Debug)]
pub struct ClientPeer {
    /// The plan it follows.
    pub plan: ClientPlan,
    sent: Arc<AtomicU64>,
    done: watch::Receiver<Option<Result<(), String>>>,
    writer: Arc<Mutex<Option<PeerWriter>>>,
    stop_reading: Arc<Notify>,
    transcript: Transcript,
    received: Arc<Capture>,
    connected_at: tokio::time::Instant,
    /// What the conversation sent after the first payload (see [`ClientPeer::send_more`]).
    sent_later: std::sync::Mutex<Vec<u8>>,
    /// The harness's end and the program's.
    pub ends: (std::net::SocketAddr, std::net::SocketAddr),
}

impl ClientPeer {
    /// Connects to `host:port` and starts sending in the background.
    ///
    /// Fails only if the connection cannot be made; a failure while sending is reported
    /// by [`ClientPeer::wait_sent`].
    pub async fn connect(
        net: &PeerNet,
        host: &str,
        port: u16,
        plan: ClientPlan,
        seed: u64,
        transcript: Transcript,
    ) -> io::Result<ClientPeer> {
        let connected_at = tokio::time::Instant::now();
        let PeerConnection {
            mut reader,
            writer,
            local,
            remote,
        } = net
            .connect(
                host,
                port,
                // A kept connection is a conversation: its short lines leave at once.
                plan.slices.is_sliced() || plan.then == CloseHow::Keep,
            )
            .await?;
        let flow = Flow::opened_by_harness(
            &plan.name,
            Protocol::Tcp,
            FlowEnd::harness(&plan.name, local),
            transcript.program_end(&plan.name, remote),
        );
        transcript.opened(Direction::ToProgram, "connected", flow);
        let writer = Arc::new(Mutex::new(Some(writer)));
        // A full close or a reset must close the socket, so the reader gives up its half.
        let stop_reading = Arc::new(Notify::new());
        let sent = Arc::new(AtomicU64::new(0));
        let (done_sender, done) = watch::channel(None);
        let received = Arc::new(Capture::memory(super::RECEIVED_CAP));

        // Reader: records whatever the program sends back, until it closes.
        {
            let (name, transcript) = (plan.name.clone(), transcript.clone());
            let received = Arc::clone(&received);
            let stop_reading = Arc::clone(&stop_reading);
            let mut slicer = plan
                .read_slices
                .slicer(seed, &format!("{}/read", plan.name));
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    let size = slicer.next_size().min(buffer.len());
                    let outcome = tokio::select! {
                        // A close of the harness's own (told before the socket is reset)
                        // ends the reading first: the reset is not the program's.
                        biased;
                        _ = stop_reading.notified() => break,
                        outcome = reader.read(&mut buffer[..size]) => outcome,
                    };
                    if let Ok(count) = outcome
                        && count > 0
                    {
                        let _ = received.append(&buffer[..count]);
                    }
                    match outcome {
                        Ok(0) => {
                            transcript.fin(&name, Direction::FromProgram, "closed");
                            break;
                        }
                        Ok(count) => {
                            transcript.data(&name, Direction::FromProgram, &buffer[..count]);
                        }
                        Err(error) => {
                            let text = format!("error: {error}");
                            if error.kind() == io::ErrorKind::ConnectionReset {
                                transcript.reset(&name, Direction::FromProgram, text);
                            } else {
                                transcript.event(&name, Direction::FromProgram, text);
                            }
                            break;
                        }
                    }
                    tokio::time::sleep(slicer.next_gap()).await;
                }
                // Whatever ended the reading, nothing more will arrive.
                received.close();
            });
        }

        // Writer: the payload, slice by slice.
        {
            let (plan, transcript, sent, writer, stop_reading) = (
                plan.clone(),
                transcript.clone(),
                Arc::clone(&sent),
                Arc::clone(&writer),
                Arc::clone(&stop_reading),
            );
            // Sending is under way from now until the planned close is done.
            let held = transcript.pending().hold();
            tokio::spawn(async move {
                let result =
                    send_payload(&plan, seed, &transcript, &sent, &writer, &stop_reading).await;
                drop(held);
                let _ = done_sender.send(Some(result.map_err(|error| error.to_string())));
            });
        }
        Ok(ClientPeer {
            plan,
            sent,
            done,
            writer,
            stop_reading,
            transcript,
            received,
            connected_at,
            sent_later: std::sync::Mutex::new(Vec::new()),
            ends: (local, remote),
        })
    }

    /// Sends `payload` on the connection, after the first payload, slice by slice
    /// (`label` names the slicer's draws, so each send of a scenario cuts differently).
    pub async fn send_more(
        &self,
        payload: &Payload,
        slices: &SlicePlan,
        seed: u64,
        label: &str,
    ) -> io::Result<()> {
        let _held = self.transcript.pending().hold();
        // Bytes leave in the order the scenario wrote them: the first payload first.
        let mut done = self.done.clone();
        let first = done
            .wait_for(Option::is_some)
            .await
            .map(|result| result.clone().expect("waited for Some"));
        match first {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(io::Error::other(error)),
            Err(_) => return Err(io::Error::other("the sending task ended unexpectedly")),
        }
        let mut slicer = slices.slicer(seed, label);
        let mut source = payload.reader()?;
        write_sliced(
            &self.plan.name,
            &mut slicer,
            &mut source,
            &self.transcript,
            &self.writer,
            |chunk| {
                let mut later = self.sent_later.lock().expect("not poisoned");
                later.extend_from_slice(chunk);
            },
        )
        .await
    }

    /// When it began to connect (simulated time in the simulated world).
    pub fn connected_at(&self) -> tokio::time::Instant {
        self.connected_at
    }

    /// What the program sent back on this connection; closed once the reading ended.
    pub fn received(&self) -> &Capture {
        &self.received
    }

    /// Bytes sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Acquire)
    }

    /// Whether the payload is sent and the planned close done (or sending failed).
    pub fn is_finished(&self) -> bool {
        self.done.borrow().is_some()
    }

    /// Why sending failed, if it did (a deliberate close or reset by the scenario is not a
    /// failure: it happens after the payload is sent).
    pub fn send_error(&self) -> Option<String> {
        match &*self.done.borrow() {
            Some(Err(error)) => Some(error.clone()),
            _ => None,
        }
    }

    /// The bytes this connection has sent: a prefix of its payload, then what the
    /// conversation sent later.
    pub fn sent_payload(&self) -> Payload {
        let later = self.sent_later.lock().expect("not poisoned");
        if !later.is_empty() {
            let mut bytes = vec![0; self.plan.send.len() as usize];
            let filled = self.plan.send.read_at(0, &mut bytes).unwrap_or(0);
            bytes.truncate(filled);
            bytes.extend_from_slice(&later);
            return Payload::Bytes(bytes.into());
        }
        let sent = self.sent();
        if sent == self.plan.send.len() {
            self.plan.send.clone()
        } else {
            let mut bytes = vec![0; sent as usize];
            let filled = self.plan.send.read_at(0, &mut bytes).unwrap_or(0);
            bytes.truncate(filled);
            Payload::Bytes(bytes.into())
        }
    }

    /// Waits up to `within` for the payload to be sent and the planned close done.
    /// `Ok(false)` if still sending at the deadline.
    pub async fn wait_sent(&self, within: Duration) -> Result<bool, String> {
        let mut done = self.done.clone();
        match tokio::time::timeout(within, done.wait_for(Option::is_some)).await {
            Ok(Ok(result)) => result.clone().expect("waited for Some").map(|()| true),
            Ok(Err(_)) => Err("the sending task ended unexpectedly".into()),
            Err(_) => Ok(false),
        }
    }

    /// Ends the connection now: half-close, close or reset.
    pub async fn close(&self, how: CloseHow) -> io::Result<()> {
        close_writer(
            &self.plan.name,
            how,
            &self.writer,
            &self.stop_reading,
            &self.transcript,
        )
        .await
    }
}

async fn send_payload(
    plan: &ClientPlan,
    seed: u64,
    transcript: &Transcript,
    sent: &AtomicU64,
    writer: &Mutex<Option<PeerWriter>>,
    stop_reading: &Notify,
) -> io::Result<()> {
    let mut slicer = plan.slices.slicer(seed, &plan.name);
    let mut source = plan.send.reader()?;
    write_sliced(
        &plan.name,
        &mut slicer,
        &mut source,
        transcript,
        writer,
        |chunk| {
            sent.fetch_add(chunk.len() as u64, Ordering::Release);
        },
    )
    .await?;
    if plan.then != CloseHow::Keep {
        close_writer(&plan.name, plan.then, writer, stop_reading, transcript).await?;
    }
    Ok(())
}

/// Writes all of `source` on the connection, one slice at a time with the slicer's gaps
/// between them; `on_sent` learns each slice once it is written.
async fn write_sliced(
    name: &str,
    slicer: &mut crate::faults::Slicer,
    source: &mut (dyn Read + Send),
    transcript: &Transcript,
    writer: &Mutex<Option<PeerWriter>>,
    mut on_sent: impl FnMut(&[u8]),
) -> io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut pacer: Option<ReadPacer> = None;
    loop {
        let size = slicer.next_size().min(buffer.len());
        let filled = read_up_to(source, &mut buffer[..size])?;
        if filled == 0 {
            return Ok(());
        }
        {
            let mut guard = writer.lock().await;
            let Some(stream) = guard.as_mut() else {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "closed before everything was sent",
                ));
            };
            stream.write_all(&buffer[..filled]).await?;
            if pacer.is_none() {
                let addresses = slicer
                    .is_sliced()
                    .then(|| stream.real_addresses())
                    .flatten();
                pacer = Some(ReadPacer::new(addresses));
            }
        }
        transcript.data(name, Direction::ToProgram, &buffer[..filled]);
        on_sent(&buffer[..filled]);
        if let Some(pacer) = pacer.as_mut() {
            pacer.after_slice().await;
        }
        let gap = slicer.next_gap();
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
    }
}

/// Fills as much of `buffer` as the source has (files may return short reads too).
fn read_up_to(source: &mut dyn Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

async fn close_writer(
    name: &str,
    how: CloseHow,
    writer: &Mutex<Option<PeerWriter>>,
    stop_reading: &Notify,
    transcript: &Transcript,
) -> io::Result<()> {
    let mut guard = writer.lock().await;
    match how {
        CloseHow::Keep => {}
        CloseHow::Write => {
            if let Some(stream) = guard.as_mut() {
                // shutdown(SHUT_WR): sends FIN; the program's recv returns 0, and it can
                // still answer on the other direction.
                stream.shutdown().await?;
                transcript.fin(name, Direction::ToProgram, "half-closed (FIN)");
            }
        }
        CloseHow::Full | CloseHow::Reset => {
            if let Some(stream) = guard.take() {
                // The socket closes when both halves are gone: ours here, the reader's
                // when it sees the notification (given first: the reader then stops
                // before it could read the reset as the program's).
                stop_reading.notify_one();
                if how == CloseHow::Reset {
                    stream.reset()?;
                } else {
                    drop(stream);
                }
                if how == CloseHow::Reset {
                    transcript.reset(name, Direction::ToProgram, "reset (RST)");
                } else {
                    transcript.closed(name, Direction::ToProgram, "closed");
                }
            }
        }
    }
    Ok(())
}

/// How a harness connection ends after sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloseHow {
    /// Half-close (`shutdown(SHUT_WR)`): the program sees end of stream, can still answer.
    Write,
    /// Close both directions.
    Full,
    /// Abort with a reset (`SO_LINGER` 0).
    Reset,
    /// Keep the connection open (a later `close` step ends it).
    Keep,
}
