//! Resets in the simulated world.
//!
//! turmoil sends a RST only when a socket is closed with unread data; a peer cannot reset
//! a connection at will, as `SO_LINGER 0` does on Linux. The board fills the gap: a peer
//! that resets posts its connection here, and the other end (wrapped in [`Resettable`])
//! fails its next read and write with `ConnectionReset`, dropping unread data, which is
//! what the Linux kernel does on receiving a RST.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection seen from the side that reset it: (its address, the other side's).
type Connection = (SocketAddr, SocketAddr);

#[derive(Debug, Default)]
struct Board {
    reset: BTreeSet<Connection>,
    waiting: BTreeMap<Connection, Waker>,
}

/// Resets posted during one simulation, shared by every host.
#[derive(Debug, Clone, Default)]
pub struct ResetBoard {
    board: Arc<Mutex<Board>>,
}

impl ResetBoard {
    /// Records that the side at `local` reset its connection to `remote`, and wakes the
    /// other side if it is waiting to read.
    pub fn reset(&self, local: SocketAddr, remote: SocketAddr) {
        let waker = {
            let mut board = self.lock();
            board.reset.insert((local, remote));
            board.waiting.remove(&(local, remote))
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wraps the stream at `local` connected to `remote` so that a reset posted by the
    /// other side reaches it.
    pub fn watch<S>(&self, stream: S, local: SocketAddr, remote: SocketAddr) -> Resettable<S> {
        Resettable {
            inner: stream,
            // The other side posts (its address, ours).
            connection: (remote, local),
            board: self.clone(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_reset(&self, connection: &Connection) -> bool {
        self.lock().reset.contains(connection)
    }
}

/// A stream that fails once the other side has reset the connection.
pub struct Resettable<S> {
    inner: S,
    connection: Connection,
    board: ResetBoard,
}

fn reset_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer")
}

impl<S: AsyncRead + Unpin> AsyncRead for Resettable<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.board.is_reset(&self.connection) {
            return Poll::Ready(Err(reset_error()));
        }
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if result.is_pending() {
            // Also wake up for a reset, which turmoil knows nothing about.
            this.board
                .lock()
                .waiting
                .insert(this.connection, cx.waker().clone());
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Resettable<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.board.is_reset(&self.connection) {
            return Poll::Ready(Err(reset_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
