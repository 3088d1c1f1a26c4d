//! A mail client's connection: lines and counted bytes from the shared line reader
//! ([`crate::lines`]), every read and write within [`REPLY_TIMEOUT`], and the upgrade to
//! TLS in the middle of the dialogue (STARTTLS, STLS).
//!
//! IMAP and POP3 are both "a command line, then lines back"; what differs (tags and
//! literals, `+OK` and a final `.`) is in each protocol's module, written over this.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Failure;
use crate::BUFFER_SIZE;
use crate::lines::{Line, LineReader};
use crate::net::Network;
use crate::tls::{MaybeTls, handshake};

/// How long the client waits for each line (or literal) of an answer, for each write to
/// be taken, and for a TLS handshake: 30 s, as `smtp-client`. A server that stops
/// answering gets a message on stderr, not a client that waits forever.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest line taken from the server, CRLF included: one buffer. RFC 1939 §3 allows
/// a POP3 status line 512 bytes, RFC 5322 §2.1.1 a message line 1000; IMAP sets no limit
/// but sends anything long as a literal. A longer line is a malformed answer.
pub const MAX_LINE: usize = BUFFER_SIZE;

/// How long closing the connection may take (for TLS, sending close_notify): the
/// dialogue is over by then, so not long.
pub(super) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest message the client reads: 16 MiB. A message is decoded whole (its MIME
/// structure is known only at its end), so it is held in memory; this bounds how much.
/// A lab shortcut: a real client would spool a larger one to a file.
pub const MAX_MESSAGE: usize = 16 << 20;

/// A connection to a mail server, in clear or TLS.
pub struct Wire<S, N> {
    reader: LineReader<MaybeTls<S>>,
    net: N,
}

impl<S, N> Wire<S, N>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    /// A connection over `stream` (in clear, or TLS since its first byte).
    pub fn new(stream: MaybeTls<S>, net: N) -> Wire<S, N> {
        Wire {
            reader: LineReader::new(stream),
            net,
        }
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.reader.get_ref().is_tls()
    }

    /// Sends `bytes` whole (looping over short writes). `command` names what is sent in a
    /// failure: never the bytes themselves, which may hold a password.
    pub async fn send(&mut self, bytes: &[u8], command: &str) -> Result<(), Failure> {
        let stream = self.reader.get_mut();
        let written = within(&self.net, command, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await?;
        written.map_err(|error| broken(command, error))
    }

    /// The next line, without its line end.
    pub async fn line(&mut self, command: &str) -> Result<Vec<u8>, Failure> {
        let read = within(&self.net, command, self.reader.read_line(MAX_LINE)).await?;
        match read.map_err(|error| broken(command, error))? {
            Line::Complete(line) => Ok(line.to_vec()),
            Line::Closed | Line::Truncated => Err(Failure::Closed {
                command: command.to_owned(),
            }),
            Line::TooLong => Err(Failure::Malformed {
                command: command.to_owned(),
                why: format!("a line longer than {MAX_LINE} bytes"),
            }),
        }
    }

    /// Exactly `count` more bytes, appended to `into` (an IMAP literal). `into` may not
    /// grow past [`MAX_MESSAGE`].
    pub async fn exact(
        &mut self,
        count: usize,
        into: &mut Vec<u8>,
        command: &str,
    ) -> Result<(), Failure> {
        if into.len().saturating_add(count) > MAX_MESSAGE {
            return Err(Failure::TooLarge {
                command: command.to_owned(),
            });
        }
        let read = within(&self.net, command, self.reader.read_exact(count, into)).await?;
        match read.map_err(|error| broken(command, error))? {
            true => Ok(()),
            false => Err(Failure::Closed {
                command: command.to_owned(),
            }),
        }
    }

    /// TLS over this connection, after the server said yes to STARTTLS (IMAP) or STLS
    /// (POP3): the handshake, the certificate verified for `host`.
    ///
    /// Nothing may have come after the server's yes: bytes that arrived before the
    /// handshake were sent in clear, and would be read as if they came over TLS.
    pub async fn start_tls(
        self,
        config: Arc<ClientConfig>,
        host: &str,
    ) -> Result<Wire<S, N>, Failure> {
        if !self.reader.buffered().is_empty() {
            return Err(Failure::ClearTextBeforeHandshake);
        }
        let Wire { reader, net } = self;
        let MaybeTls::Plain(stream) = reader.into_inner() else {
            // The dialogues ask for STARTTLS only in clear.
            return Err(Failure::Handshake {
                error: io::Error::other("TLS is already on"),
            });
        };
        let secured = secure(&net, config, host, stream).await?;
        Ok(Wire::new(MaybeTls::Tls(Box::new(secured)), net))
    }

    /// Closes the connection (for TLS, with its close_notify), within [`CLOSE_TIMEOUT`]:
    /// the dialogue is over, and nothing depends on it.
    pub async fn close(&mut self) {
        let stream = self.reader.get_mut();
        tokio::select! {
            biased;
            () = self.net.sleep(CLOSE_TIMEOUT) => {}
            _ = stream.shutdown() => {}
        }
    }

    /// The network, for the dialogue's own deadlines.
    pub fn net(&self) -> &N {
        &self.net
    }
}

/// The TLS handshake over `stream` within [`REPLY_TIMEOUT`]: for `--tls`, before the
/// greeting, and after STARTTLS/STLS.
pub(super) async fn secure<S, N>(
    net: &N,
    config: Arc<ClientConfig>,
    host: &str,
    stream: S,
) -> Result<tokio_rustls::client::TlsStream<S>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    within(net, "TLS handshake", handshake(config, host, stream))
        .await?
        .map_err(|error| Failure::Handshake { error })
}

/// `work`, unless [`REPLY_TIMEOUT`] passes first.
async fn within<N: Network, T>(
    net: &N,
    command: &str,
    work: impl Future<Output = T>,
) -> Result<T, Failure> {
    tokio::select! {
        // The deadline first, as everywhere: it wins a tie.
        biased;
        () = net.sleep(REPLY_TIMEOUT) => Err(Failure::TimedOut { command: command.to_owned() }),
        done = work => Ok(done),
    }
}

fn broken(command: &str, error: io::Error) -> Failure {
    Failure::Broken {
        command: command.to_owned(),
        error,
    }
}
