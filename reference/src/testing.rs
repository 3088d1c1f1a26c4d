//! What the property tests share: input shaped like a protocol and input that is not, a
//! stream that delivers it in slices drawn at random, and a deadline.
//!
//! A property test (the `proptest` crate) states something that must hold for *every*
//! input ("whatever the client sends, the reader stops when the input ends"), checks it on
//! many inputs drawn at random, and when one fails, shrinks it to a small failing input and
//! saves it in a `proptest-regressions/` file, which the next run tries first. Tables of
//! examples show what the programmer thought of; properties find what they did not.
//!
//! Each parser's properties sit next to it, in a child module `properties` (for example
//! `web_server/head/properties.rs`), and check the same four things (issue 12 §5):
//!
//! - **Never panics.** A server that panics on a byte it did not expect can be stopped by
//!   anyone who sends that byte.
//! - **Never loops.** When the input ends, the parser ends: every asynchronous reader runs
//!   under [`within_deadline`].
//! - **Bounded memory.** Over its limit, a reader refuses or cuts, and takes no more from
//!   the stream than its fixed buffer holds.
//! - **Errors are protocol errors.** Bad input gets the protocol's own answer (a 400, a
//!   500 reply, `Line::TooLong`), never an `io::Error`, which means a broken connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use tokio::io::{AsyncRead, ReadBuf};

/// Cases per property of a pure function (text in, value out): microseconds each.
pub(crate) const PURE_CASES: u32 = 512;

/// Cases per property of a reader driven over a [`Sliced`] stream: a runtime per case,
/// and inputs of up to hundreds of kilobytes read a few bytes at a time.
pub(crate) const STREAM_CASES: u32 = 128;

/// Cases per property of a whole session (a server's `serve_one` over a pipe).
pub(crate) const SESSION_CASES: u32 = 64;

// With these counts all the properties of the crate take about a second of one core in a
// debug build. `PROPTEST_CASES` does not change them: each property sets its own count.

/// How long a parser may take, once its whole input is there, before the test calls it a
/// loop. Generous: the longest inputs here take milliseconds.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

/// Runs `future` on a fresh single-threaded runtime, failing the test if it has not ended
/// within [`DEADLINE`].
///
/// A deadline can only fire while the future waits: a loop that never waits would hold
/// the thread forever. The streams here make reads wait now and then, as sockets do:
/// [`Sliced`] before every read, tokio's `duplex` when empty and after a budget of reads.
/// So a parser that loops on them is caught.
pub(crate) fn within_deadline<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime for the test");
    // The timer is made inside the runtime: it needs the runtime's clock.
    runtime
        .block_on(async { tokio::time::timeout(DEADLINE, future).await })
        .expect("still running 5 s after its input ended: a loop?")
}

/// A stream that delivers `input` in slices of the given sizes (taken in turn, over and
/// over), then the end of input, as a socket delivers whatever has arrived.
///
/// Before each read it first answers "nothing yet" (`Pending`, waking itself at once), as
/// a socket does between two segments: the reading task yields, and the deadline of
/// [`within_deadline`] gets its chance to fire.
pub(crate) struct Sliced<'a> {
    input: &'a [u8],
    slices: Vec<usize>,
    reads: usize,
    delivered: usize,
    ready: bool,
}

impl<'a> Sliced<'a> {
    /// `input` in slices of `slices` bytes each, in turn (at most what the reader asks
    /// for); all at once if `slices` is empty. Sizes must not be 0 (a read of 0 bytes
    /// means the end of input).
    pub(crate) fn new(input: &'a [u8], slices: &[usize]) -> Sliced<'a> {
        assert!(
            !slices.contains(&0),
            "a slice of 0 bytes would end the input"
        );
        Sliced {
            input,
            slices: slices.to_vec(),
            reads: 0,
            delivered: 0,
            ready: false,
        }
    }

    /// How many bytes the reader has taken from this stream: what a socket's reader would
    /// have had to store or drop.
    pub(crate) fn delivered(&self) -> usize {
        self.delivered
    }
}

impl AsyncRead for Sliced<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.ready {
            this.ready = true;
            context.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.ready = false;
        let slice = match this.slices.len() {
            0 => usize::MAX,
            turns => this.slices[this.reads % turns],
        };
        this.reads += 1;
        let rest = &this.input[this.delivered..];
        let size = slice.min(rest.len()).min(buffer.remaining());
        buffer.put_slice(&rest[..size]);
        this.delivered += size;
        Poll::Ready(Ok(()))
    }
}

/// Slice sizes for [`Sliced`]: mostly a few bytes (one byte at a time is the hardest case
/// for a reader), sometimes hundreds, now and then more than any buffer here.
pub(crate) fn slices() -> impl Strategy<Value = Vec<usize>> {
    let size = prop_oneof![
        4 => 1usize..=8,
        2 => 1usize..=512,
        1 => 1usize..=20_000,
    ];
    vec(size, 1..8)
}

/// The bytes parsers trip over: line ends alone and doubled, a CR without its LF, NUL,
/// bytes that are not UTF-8 (and half of a UTF-8 `é`), and the protocols' separators.
const TRICKY: &[&[u8]] = &[
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\r\n\r\n",
    b"\r\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3",
    b".",
    b":",
    b" ",
    b"\t",
    b"%",
    b"<",
    b">",
    b"-",
];

/// Input made of pieces: lines in the protocol's shape (drawn from `lines`), arbitrary
/// bytes, [`TRICKY`] bytes, and now and then a run of thousands of bytes without a line
/// end, longer than any limit here.
///
/// Arbitrary bytes alone would rarely get past a parser's first check; lines alone would
/// never try what a parser does not expect. The mix tries both, and their seams.
pub(crate) fn mixed<S>(lines: S) -> impl Strategy<Value = Vec<u8>>
where
    S: Strategy<Value = String> + 'static,
{
    let piece = prop_oneof![
        6 => lines.prop_map(String::into_bytes),
        2 => vec(any::<u8>(), 0..24),
        2 => select(TRICKY).prop_map(<[u8]>::to_vec),
        1 => (select(&b"x\r \xff"[..]), 1_000usize..20_000).prop_map(|(byte, run)| vec![byte; run]),
    ];
    vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// `word` with each letter in upper or lower case at random: `MaIl`. Protocol keywords are
/// case-insensitive (RFC 5321 §2.4, RFC 3986 §3.1), so parsers must take every mix.
pub(crate) fn any_case(word: &'static str) -> impl Strategy<Value = String> {
    vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(letter, upper)| match upper {
                true => letter.to_ascii_uppercase(),
                false => letter.to_ascii_lowercase(),
            })
            .collect()
    })
}
