//! What the peers of the protocols that move into TLS midway (IMAP, POP3, FTP) share of a
//! control connection's life, written once: TLS from the first byte (IMAPS, POP3S,
//! FTPS), or the greeting and commands in clear until the client asks for TLS
//! (`STARTTLS`, `STLS`, `AUTH TLS`), the handshake, and the commands again inside it.
//! Each pack says only how it greets and how it answers commands ([`StartTlsDialogue`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::mailstore::{Certificate, accept_tls};

/// How a dialogue on one stream ended.
pub(super) enum Ending {
    /// The client logged out, quit or closed.
    Over,
    /// The server accepted the client's request for TLS: the handshake comes next.
    StartTls,
}

/// A dialogue on one control connection, as [`converse`] drives it.
pub(super) trait StartTlsDialogue: Send {
    /// The certificate its TLS presents.
    fn certificate(&self) -> Certificate;

    /// The handshake is done: what is read from now on is inside TLS
    /// (`MailWire::tls_established`).
    fn tls_established(&mut self);

    /// The client began the handshake (its first bytes of it came): kept in the session's
    /// record, what a scenario about a certificate the client must refuse needs to know
    /// the client met it.
    fn tls_begun(&mut self);

    /// The handshake failed: said in the transcript (`MailWire::tls_failed`), and its
    /// reason kept in the session's record.
    fn tls_failed(&self, error: &io::Error);

    /// The server's greeting, on the stream the client reads first.
    fn greet<S: AsyncWrite + Unpin + Send>(
        &mut self,
        stream: &mut S,
    ) -> impl Future<Output = io::Result<()>> + Send;

    /// The commands on one stream, until the client is done or asks for TLS.
    fn run<S: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        stream: &mut S,
    ) -> impl Future<Output = io::Result<Ending>> + Send;
}

/// The whole dialogue: TLS first if `tls_first` (the script's, or the client came to the
/// peer's port of TLS from the first byte), the greeting, the commands, perhaps a request
/// for TLS and the commands after it. A failed handshake ends it, recorded; an error is
/// the connection's.
pub(super) async fn converse<D, S>(dialogue: &mut D, plain: S, tls_first: bool) -> io::Result<()>
where
    D: StartTlsDialogue,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut plain = plain;
    if !tls_first {
        dialogue.greet(&mut plain).await?;
        if let Ending::Over = dialogue.run(&mut plain).await? {
            return Ok(());
        }
    }
    let began = Arc::new(AtomicBool::new(false));
    let noticing = Noticing {
        inner: plain,
        began: Arc::clone(&began),
    };
    let accepted = accept_tls(noticing, dialogue.certificate()).await;
    if began.load(Ordering::Relaxed) {
        dialogue.tls_begun();
    }
    let mut encrypted = match accepted {
        Ok(encrypted) => encrypted,
        Err(error) => {
            dialogue.tls_failed(&error);
            return Ok(());
        }
    };
    dialogue.tls_established();
    if tls_first {
        dialogue.greet(&mut encrypted).await?;
    }
    dialogue.run(&mut encrypted).await?;
    let _ = encrypted.shutdown().await;
    Ok(())
}

/// A stream that notes whether any byte was read from it: whether the client began the
/// handshake (sent its ClientHello), or connected and closed without a word.
struct Noticing<S> {
    inner: S,
    began: Arc<AtomicBool>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Noticing<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(context, buffer);
        if buffer.filled().len() > before {
            self.began.store(true, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Noticing<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, bytes)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}
