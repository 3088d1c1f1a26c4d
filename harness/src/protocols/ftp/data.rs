//! The passive data connection (RFC 959 §3.2, §4.1.1 `PASV`; RFC 2428 §3 `EPSV`): the
//! server listens on a second port, names it in its reply, and the client connects there
//! to send the file.
//!
//! ```text
//! C: EPSV                                   C: PASV
//! S: 229 Entering Extended Passive Mode     S: 227 Entering Passive Mode
//!        (|||40123|)                               (127,0,0,1,156,187)   156*256+187 = 40123
//! C: (connects to the control connection's address, port 40123)
//! C: STOR photo.bin
//! S: 150 Ok to send data.
//! C: (the file's bytes on the data connection, then its close: the end of the file)
//! S: 226 Transfer complete.
//! ```
//!
//! The listener is opened in the scenario's network, in either world, on both loopbacks
//! in the real world: a client that reached the control connection over `::1` (a name
//! that resolves to both) connects to its data port there (EPSV: "the address of the
//! control connection"). For the failures a scenario plays, the port named may refuse
//! connections (bound but not listening) or the connection is accepted and reset.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::DataPlan;
use crate::protocols::mailstore::{Certificate, accept_tls};
use crate::transcript::{Direction, Transcript};
use crate::wire::{Flow, FlowEnd, Protocol};
use crate::world::capture::Capture;
use crate::world::sockets::{Family, PeerConnection, PeerNet};

/// How long `STOR` waits for the client to open the data connection it was told of.
const DATA_WAIT: Duration = Duration::from_secs(5);

/// A passive data port opened by `PASV` or `EPSV`.
pub(super) struct Passive {
    /// The port named in the reply.
    pub port: u16,
    /// What is there.
    end: PassiveEnd,
}

/// A bound socket that is never made to listen (held in a mutex: the dialogue is shared).
type NeverListens = Pin<Box<dyn Future<Output = ()> + Send>>;

enum PassiveEnd {
    /// Listening (on the IPv4 loopback, and on the IPv6 one where it could): a task
    /// accepts the first connection as soon as it comes, before the `STOR` (a simulated
    /// connection completes only once accepted, and a client may connect first and send
    /// `STOR` after). Aborted when dropped.
    Listening(Accepting),
    /// A port that refuses: bound and never listening (real world), or one whose
    /// listener was closed (simulated). The socket is held until the session drops it.
    Refusing(#[allow(dead_code)] Option<std::sync::Mutex<NeverListens>>),
}

/// The task accepting the data connection; dropping it stops it and closes the port.
struct Accepting(tokio::task::JoinHandle<Option<PeerConnection>>);

impl Drop for Accepting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Passive {
    /// Opens a data port as `plan` says.
    pub(super) async fn open(net: &PeerNet, plan: DataPlan) -> io::Result<Passive> {
        crate::temporary::failed_on_purpose("ftp-data")?;
        if plan == DataPlan::Refused {
            // Real world: the port is bound now and would listen after an hour; the
            // future that would is never polled, only held, so connections are refused.
            return match net
                .listen_after(Family::Ipv4, Duration::from_secs(3600))
                .await
            {
                Ok((port, never)) => Ok(Passive {
                    port,
                    end: PassiveEnd::Refusing(Some(std::sync::Mutex::new(Box::pin(async move {
                        let _ = never.await;
                    })))),
                }),
                Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                    let listener = net.listen(Family::Ipv4).await?;
                    let port = listener.port()?;
                    drop(listener);
                    Ok(Passive {
                        port,
                        end: PassiveEnd::Refusing(None),
                    })
                }
                Err(error) => Err(error),
            };
        }
        let v4 = net.listen(Family::Ipv4).await?;
        let port = v4.port()?;
        let v6 = net.listen_at(Family::Ipv6, port).await.ok();
        let accepting = tokio::spawn(async move {
            let accepted = match &v6 {
                Some(v6) => tokio::select! {
                    accepted = v4.accept() => accepted,
                    accepted = v6.accept() => accepted,
                },
                None => v4.accept().await,
            };
            // The listeners close here: a second connection is refused.
            accepted.ok()
        });
        Ok(Passive {
            port,
            end: PassiveEnd::Listening(Accepting(accepting)),
        })
    }

    /// Waits (at most [`DATA_WAIT`]) for the client's data connection. `None`: none
    /// came, or the port refuses.
    pub(super) async fn accept(self) -> Option<PeerConnection> {
        let PassiveEnd::Listening(mut accepting) = self.end else {
            return None;
        };
        tokio::time::timeout(DATA_WAIT, &mut accepting.0)
            .await
            .ok()?
            .ok()
            .flatten()
    }
}

/// Where one data connection is recorded.
pub(super) struct DataWire<'a> {
    /// The control connection's label (`ftp#1`): the data connection's is `ftp#1/data2`.
    pub control: &'a str,
    pub transcript: &'a Transcript,
}

impl DataWire<'_> {
    /// Opens the data connection `number` in the transcript (and the capture); its label.
    pub(super) fn opened(&self, number: usize, connection: &PeerConnection) -> String {
        let label = format!("{}/data{number}", self.control);
        let peer = self.control.split('#').next().unwrap_or(self.control);
        let flow = Flow::opened_by_program(
            &label,
            Protocol::Tcp,
            self.transcript.client_end(peer, connection.remote),
            FlowEnd::harness(peer, connection.local),
        );
        self.transcript
            .opened(Direction::FromProgram, "data connection opened", flow);
        label
    }

    /// Receives the file: every byte until the client closes, the first `keep` of them
    /// kept; with how many came. `Err`: the connection failed (reset) before its end.
    pub(super) async fn receive(
        &self,
        label: &str,
        mut connection: PeerConnection,
        keep: u64,
    ) -> (Arc<Capture>, u64, io::Result<()>) {
        self.receive_from(label, &mut connection.reader, keep).await
    }

    /// Receives the file inside TLS (`PROT P`): the handshake first (the server's side,
    /// with the test CA's certificate), then every byte until the client's close, and
    /// the server's own close_notify (a client's `unwrap()` waits for it).
    pub(super) async fn receive_inside_tls(
        &self,
        label: &str,
        connection: PeerConnection,
        keep: u64,
    ) -> (Arc<Capture>, u64, io::Result<()>) {
        let PeerConnection { reader, writer, .. } = connection;
        let joined = tokio::io::join(reader, writer);
        let mut encrypted = match accept_tls(joined, Certificate::Right).await {
            Ok(encrypted) => encrypted,
            Err(error) => {
                self.transcript.event(
                    label,
                    Direction::FromProgram,
                    format!("TLS handshake failed: {error}"),
                );
                let failed = Err(error);
                crate::peers::record_ending::<()>(self.transcript, label, &failed);
                return (Arc::new(Capture::memory(0)), 0, failed);
            }
        };
        self.transcript.event(
            label,
            Direction::FromProgram,
            "TLS established: what follows is decrypted".to_owned(),
        );
        let received = self.receive_from(label, &mut encrypted, keep).await;
        let _ = encrypted.shutdown().await;
        received
    }

    async fn receive_from<R: AsyncRead + Unpin>(
        &self,
        label: &str,
        reader: &mut R,
        keep: u64,
    ) -> (Arc<Capture>, u64, io::Result<()>) {
        let stored = Arc::new(Capture::memory(keep));
        let mut came = 0u64;
        let mut buffer = vec![0u8; 64 * 1024];
        let ended = loop {
            match reader.read(&mut buffer).await {
                Ok(0) => {
                    self.transcript
                        .fin(label, Direction::FromProgram, "end of the file (FIN)");
                    break Ok(());
                }
                Ok(count) => {
                    self.transcript
                        .data(label, Direction::FromProgram, &buffer[..count]);
                    came += count as u64;
                    let _ = stored.append(&buffer[..count]);
                }
                Err(error) => {
                    self.transcript
                        .event(label, Direction::FromProgram, format!("error: {error}"));
                    break Err(error);
                }
            }
        };
        crate::peers::record_ending(self.transcript, label, &ended);
        (stored, came, ended)
    }

    /// Accepts the data connection and resets it at once (`data = "reset"`).
    pub(super) fn reset(&self, label: &str, connection: PeerConnection) {
        let PeerConnection { reader, writer, .. } = connection;
        if writer.reset().is_ok() {
            self.transcript
                .reset(label, Direction::ToProgram, "reset by the server (RST)");
        }
        drop(reader);
    }
}
