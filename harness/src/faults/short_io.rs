//! Short reads and writes inside a simulated program.
//!
//! turmoil delivers every write as one segment and a read returns at most one segment, so
//! by itself it never shows a program the two things real TCP does all the time: a `recv`
//! that returns only part of what was sent, and a `recv` that returns the bytes of several
//! sends at once. [`ShortIo`] wraps a stream and does both, from a seeded generator:
//!
//! - every write accepts at most a drawn number of bytes (a short `send`);
//! - every read returns at most a drawn number of bytes (a short `recv`), but gathers
//!   everything already delivered up to that number, across segments (coalescing).
//!
//! A program that loops correctly cannot tell; one that assumes one `recv` per `send`
//! breaks, deterministically, and the seed replays it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{SlicePlan, Slicer};

/// A stream whose reads and writes move at most a seeded number of bytes each.
pub struct ShortIo<S> {
    inner: S,
    reads: Slicer,
    writes: Slicer,
    /// The size drawn for the read in progress, kept until it completes (a read that
    /// waits is polled again and must not draw again).
    read_limit: Option<usize>,
    /// The same for writes.
    write_limit: Option<usize>,
}

impl<S> ShortIo<S> {
    /// Wraps `inner`; `name` picks this stream's own sequence of sizes from the seed.
    pub fn new(inner: S, plan: SlicePlan, seed: u64, name: &str) -> ShortIo<S> {
        ShortIo {
            inner,
            reads: plan.slicer(seed, &format!("{name}/read")),
            writes: plan.slicer(seed, &format!("{name}/write")),
            read_limit: None,
            write_limit: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ShortIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let drawn = *this
            .read_limit
            .get_or_insert_with(|| this.reads.next_size());
        let limit = drawn.min(buf.remaining());
        let mut piece = ReadBuf::new(buf.initialize_unfilled_to(limit));
        // Gather segments until the limit, the end of stream, or nothing more has arrived.
        let stop = loop {
            let before = piece.filled().len();
            match Pin::new(&mut this.inner).poll_read(cx, &mut piece) {
                Poll::Ready(Ok(())) if piece.filled().len() == before => break ReadStop::End,
                Poll::Ready(Ok(())) if piece.remaining() == 0 => break ReadStop::Full,
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(error)) => break ReadStop::Failed(error),
                Poll::Pending => break ReadStop::Waiting,
            }
        };
        let filled = piece.filled().len();
        if filled > 0 {
            // Bytes first: an end or an error after them comes back on the next read.
            buf.advance(filled);
            this.read_limit = None;
            return Poll::Ready(Ok(()));
        }
        match stop {
            ReadStop::Waiting => Poll::Pending,
            ReadStop::End | ReadStop::Full => {
                this.read_limit = None;
                Poll::Ready(Ok(()))
            }
            ReadStop::Failed(error) => {
                this.read_limit = None;
                Poll::Ready(Err(error))
            }
        }
    }
}

/// Why gathering a read stopped.
enum ReadStop {
    /// The stream ended (or the caller's buffer had no room).
    End,
    /// The drawn size is reached.
    Full,
    /// Nothing more has arrived yet.
    Waiting,
    /// The stream failed.
    Failed(io::Error),
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ShortIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let drawn = *this
            .write_limit
            .get_or_insert_with(|| this.writes.next_size());
        let limit = drawn.min(data.len());
        let result = Pin::new(&mut this.inner).poll_write(cx, &data[..limit]);
        if result.is_ready() {
            this.write_limit = None;
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::faults::Range;

    fn plan(low: u64, high: u64) -> SlicePlan {
        SlicePlan {
            size: Range::Between([low, high]),
            gap_ms: Range::Exactly(0),
        }
    }

    /// Writes through the adapter and records the size every write call accepted.
    async fn write_sizes(seed: u64, data: &[u8]) -> Vec<usize> {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let mut stream = ShortIo::new(near, plan(1, 7), seed, "s");
        let mut sizes = Vec::new();
        let mut offset = 0;
        while offset < data.len() {
            let accepted = stream.write(&data[offset..]).await.unwrap();
            sizes.push(accepted);
            offset += accepted;
        }
        drop(stream);
        let mut received = Vec::new();
        far.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, data);
        sizes
    }

    #[tokio::test]
    async fn writes_are_short_and_replay_for_a_seed() {
        let data: Vec<u8> = (0..200u8).collect();
        let first = write_sizes(7, &data).await;
        assert!(first.iter().all(|size| (1..=7).contains(size)));
        assert!(first.len() > 200 / 7);
        assert_eq!(first, write_sizes(7, &data).await);
        assert_ne!(first, write_sizes(8, &data).await);
    }

    #[tokio::test]
    async fn reads_return_at_most_the_drawn_size() {
        let (mut near, far) = tokio::io::duplex(1 << 16);
        for piece in [&b"ab"[..], b"cd", b"ef", b"gh"] {
            near.write_all(piece).await.unwrap();
        }
        drop(near);
        let mut stream = ShortIo::new(far, plan(5, 5), 1, "s");
        let mut buffer = [0u8; 64];
        let first = stream.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..first], b"abcde");
        let second = stream.read(&mut buffer).await.unwrap();
        assert_eq!(&buffer[..second], b"fgh");
        assert_eq!(stream.read(&mut buffer).await.unwrap(), 0);
    }
}
