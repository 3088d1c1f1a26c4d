//! What the fuzz targets share: taking parameters (slice sizes, a limit) from the front of
//! the fuzzer's input, a stream that delivers the rest in those slices, and a poll loop
//! that fails when a reader does not finish.
//!
//! The fuzzer knows nothing of async code: each target drives its reader by hand with
//! [`drive`]. The stream never really waits (all its input is there), but it answers
//! "nothing yet" before every read, as a socket does between segments, so a reader that
//! loops shows up as a future that is still pending after more polls than it has bytes
//! to read.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, ReadBuf};

/// The fuzzer's bytes, read from the front: parameters first, then the input itself.
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// The next byte, or 0 when there is none.
    pub fn byte(&mut self) -> u8 {
        let Some((&first, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        first
    }

    /// Slice sizes for [`Sliced`]: a count (0 to 7; 0 is all at once), then one byte per
    /// size (1 to 256 bytes each).
    pub fn slices(&mut self) -> Vec<usize> {
        let count = self.byte() % 8;
        (0..count).map(|_| usize::from(self.byte()) + 1).collect()
    }

    /// What is left: the input.
    pub fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// A stream that delivers `input` in slices of the given sizes (in turn), then the end of
/// input; before each read it first answers `Pending` (see the crate's doc).
pub struct Sliced<'a> {
    input: &'a [u8],
    slices: Vec<usize>,
    reads: usize,
    delivered: usize,
    ready: bool,
}

impl<'a> Sliced<'a> {
    /// `input` in slices of `slices` bytes each, in turn; all at once if empty.
    pub fn new(input: &'a [u8], slices: &[usize]) -> Sliced<'a> {
        Sliced {
            input,
            slices: slices.to_vec(),
            reads: 0,
            delivered: 0,
            ready: false,
        }
    }

    /// How many bytes the reader has taken from the stream.
    pub fn delivered(&self) -> usize {
        self.delivered
    }
}

impl AsyncRead for Sliced<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ready {
            this.ready = true;
            return Poll::Pending;
        }
        this.ready = false;
        let slice = match this.slices.len() {
            0 => usize::MAX,
            turns => this.slices[this.reads % turns].max(1),
        };
        this.reads += 1;
        let rest = &this.input[this.delivered..];
        let size = slice.min(rest.len()).min(buffer.remaining());
        buffer.put_slice(&rest[..size]);
        this.delivered += size;
        Poll::Ready(Ok(()))
    }
}

/// Polls `future` until it is ready; panics (a finding) if it is still pending after
/// `polls` polls: every poll but the last ends at a read of [`Sliced`], so a reader of `n`
/// bytes in slices of at least one byte needs about `2 n` polls at most.
pub fn drive<F: Future>(future: F, polls: usize) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("still pending after {polls} polls with all its input there: a loop?");
}

/// A poll budget for reading `input`: two polls per byte and a margin.
pub fn budget(input: &[u8]) -> usize {
    2 * input.len() + 64
}
