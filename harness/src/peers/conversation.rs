//! What a server peer hands the protocol it speaks to serve one client: a TCP
//! [`Conversation`] (read the request, write the answer in the scenario's slices, close),
//! or a [`DatagramAnswer`] to a datagram (now or later). Every byte either way goes
//! through the transcript and, from the program, into the peer's capture, so a protocol
//! only decides *what* to read and write.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;

use super::read_pacing::ReadPacer;
use crate::faults::Slicer;
use crate::payload::Payload;
use crate::transcript::{Direction, Transcript};
use crate::wire::{FlowId, WireAct};
use crate::world::capture::Capture;
use crate::world::sockets::{PeerDatagram, PeerNet, PeerReader, PeerWriter};

/// One client's TCP connection to a server peer, opened in the transcript.
pub struct Conversation {
    /// Its name in the transcript: the peer's, and the connection's number (`mta#1`).
    pub label: String,
    /// What the client sends.
    pub reader: PeerReader,
    /// What the peer answers.
    pub writer: PeerWriter,
    /// The scenario's transcript.
    pub transcript: Transcript,
    /// Everything the program sent the peer, every connection: what `expect_received`
    /// judges.
    pub received: Arc<Capture>,
    /// The connection's flow, for the RST of a client that reset it.
    pub(super) flow: FlowId,
    /// How the answer is cut into writes (none: whole writes), drawn from the run's seed.
    pub(super) slicer: Option<Slicer>,
    /// The peer's end of the connection: the address the client reached it at.
    pub local: SocketAddr,
    /// The network the peer lives in, for a protocol that opens a second connection of
    /// its own (FTP's passive data connection, RFC 959 §3.2) in the same world.
    pub net: PeerNet,
    /// The client reached the peer's port of TLS from the first byte (see
    /// `ProtocolScript::tls_port_too`): the dialogue starts with a handshake, whatever
    /// the script says of its own port.
    pub tls_from_first_byte: bool,
}

impl Conversation {
    /// Reads the request, recording each piece, until `whole` says (of the piece just
    /// read) that the request is complete, or the client half-closes. `false` when the
    /// connection failed, which is recorded: there is nothing to answer.
    pub async fn read_request(&mut self, mut whole: impl FnMut(&[u8]) -> bool) -> bool {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match self.reader.read(&mut buffer).await {
                Ok(0) => {
                    self.transcript
                        .fin(&self.label, Direction::FromProgram, "half-closed (FIN)");
                    return true;
                }
                Ok(count) => {
                    let piece = &buffer[..count];
                    self.transcript
                        .data(&self.label, Direction::FromProgram, piece);
                    if self.received.append(piece).is_err() {
                        return false;
                    }
                    if whole(piece) {
                        return true;
                    }
                }
                Err(error) => {
                    self.read_failed(&error);
                    return false;
                }
            }
        }
    }

    /// Records what the client sends until it closes (or resets) the connection.
    pub async fn read_until_closed(&mut self) {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match self.reader.read(&mut buffer).await {
                Ok(0) => {
                    self.transcript
                        .fin(&self.label, Direction::FromProgram, "half-closed (FIN)");
                    return;
                }
                Ok(count) => {
                    let piece = &buffer[..count];
                    self.transcript
                        .data(&self.label, Direction::FromProgram, piece);
                    if self.received.append(piece).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    self.read_failed(&error);
                    return;
                }
            }
        }
    }

    /// Reading failed: a reset said as such, anything else as it was.
    fn read_failed(&self, error: &io::Error) {
        let text = format!("error: {error}");
        if error.kind() == io::ErrorKind::ConnectionReset {
            self.transcript
                .reset(&self.label, Direction::FromProgram, text);
        } else {
            self.transcript
                .event(&self.label, Direction::FromProgram, text);
        }
    }

    /// Writes a whole payload, piece by piece (it may be larger than memory wants to
    /// hold), in the scenario's slices if it has some, pausing between them.
    pub async fn write(&mut self, payload: &Payload) -> io::Result<()> {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut offset = 0;
        let addresses = self
            .slicer
            .as_ref()
            .filter(|slicer| slicer.is_sliced())
            .and_then(|_| self.writer.real_addresses());
        let mut pacer = ReadPacer::new(addresses);
        while offset < payload.len() {
            let filled = payload.read_at(offset, &mut buffer)?;
            let mut written = 0;
            while written < filled {
                let size = self.slicer.as_mut().map_or(filled - written, |slicer| {
                    slicer.next_size().min(filled - written)
                });
                let piece = &buffer[written..written + size];
                self.writer.write_all(piece).await?;
                self.transcript
                    .data(&self.label, Direction::ToProgram, piece);
                written += size;
                pacer.after_slice().await;
                if let Some(slicer) = self.slicer.as_mut() {
                    let gap = slicer.next_gap();
                    if !gap.is_zero() {
                        tokio::time::sleep(gap).await;
                    }
                }
            }
            offset += filled as u64;
        }
        Ok(())
    }

    /// Writing to the client failed: said as it was, and, when the client had reset the
    /// connection (what makes a write fail), its RST on the wire.
    pub fn write_failed(&self, error: &io::Error) {
        self.transcript
            .event(&self.label, Direction::ToProgram, format!("error: {error}"));
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ) {
            self.transcript.on_wire(
                &self.label,
                Some(self.flow),
                Direction::FromProgram,
                WireAct::Reset,
            );
        }
    }

    /// Closes the connection after the answer: the client's read returns 0, its cue that
    /// the reply is whole.
    pub async fn close(mut self) {
        if self.writer.shutdown().await.is_ok() {
            self.transcript
                .closed(&self.label, Direction::ToProgram, "closed");
        }
    }
}

/// Records how a protocol's dialogue on connection `label` ended on the wire: the client
/// reset it (a read or write failed so), or the peer closes it now (the report says
/// nothing more of that close: the session is over). For the packs that take the
/// connection apart ([`Conversation`]'s reader and writer) to speak their protocol.
pub fn record_ending<T>(transcript: &Transcript, label: &str, ended: &io::Result<T>) {
    let reset = matches!(
        ended,
        Err(error) if matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        )
    );
    let (direction, act) = if reset {
        (Direction::FromProgram, WireAct::Reset)
    } else {
        (Direction::ToProgram, WireAct::Close)
    };
    transcript.on_wire(label, None, direction, act);
}

/// How a protocol answers one datagram: to its sender, on the peer's socket.
pub struct DatagramAnswer<'a> {
    /// The peer's name in the transcript.
    pub(super) name: &'a str,
    pub(super) socket: &'a Arc<PeerDatagram>,
    pub(super) sender: SocketAddr,
    /// When the datagram arrived (see [`PeerDatagram::recv_stamped`]).
    pub(super) arrived: tokio::time::Instant,
    pub(super) flow: FlowId,
    pub(super) transcript: &'a Transcript,
    /// Answers still waiting to leave; dropping the set (the peer is dropped) cancels them.
    pub(super) late: &'a mut JoinSet<()>,
}

impl DatagramAnswer<'_> {
    /// Says something in the transcript, on the peer's line.
    pub fn note(&self, direction: Direction, text: impl Into<String>) {
        self.transcript.event(self.name, direction, text);
    }

    /// When the datagram being answered arrived.
    pub fn arrived(&self) -> tokio::time::Instant {
        self.arrived
    }

    /// Sends `answer` to the sender `delay` after the datagram arrived (at once if that is
    /// past), from a task of its own, notes `note` once it left, and tells `left` how long
    /// after the arrival that was: on a loaded machine, later than `delay`. Under way (the
    /// scenario is not still) until then.
    pub fn send_after(
        &mut self,
        delay: Duration,
        answer: Vec<u8>,
        note: String,
        left: impl FnOnce(Duration) + Send + 'static,
    ) {
        let (socket, transcript, name) = (
            Arc::clone(self.socket),
            self.transcript.clone(),
            self.name.to_owned(),
        );
        let (sender, flow, arrived) = (self.sender, self.flow, self.arrived);
        let held = self.transcript.pending().hold();
        self.late.spawn(async move {
            let _held = held;
            // (A deadline already past is not handed to the timer, which would round it
            // up to its next millisecond.)
            if arrived.elapsed() < delay {
                tokio::time::sleep_until(arrived + delay).await;
            }
            // Taken before the send: once the datagram is out, this thread may be put
            // aside for a while, and the client's round trip must not be judged against
            // a later time than the answer's departure.
            let leaving = arrived.elapsed();
            if socket.send_to(&answer, sender).await.is_ok() {
                left(leaving);
                transcript.datagram(flow, Direction::ToProgram, &answer);
                transcript.event(&name, Direction::ToProgram, note);
            }
        });
        while self.late.try_join_next().is_some() {}
    }
}
