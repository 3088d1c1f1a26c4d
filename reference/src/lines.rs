//! Reading lines from a stream: bounded, however the bytes are sliced. Shared by every
//! asynchronous line protocol here: SMTP (`smtp_client`, `smtp_server`), IMAP (`imap_read`)
//! and POP3 (`pop3_fetch`).
//!
//! Both ends of these protocols read lines: a server reads commands (and the lines of a
//! message), a client reads replies. A stream has no idea of lines (SPEC conventions:
//! every `recv` may return any part of what was sent), so the reader keeps what it has
//! received in one fixed buffer and hands it out a line at a time:
//!
//! ```text
//! reads:   "EHL" | "O a\r\nMAIL FROM:<x>\r\nRC" | "PT TO:<y>\r\n"
//! lines:   "EHLO a"   "MAIL FROM:<x>"   "RCPT TO:<y>"
//! ```
//!
//! - **One byte at a time**: a line is handed out only once its line end has arrived.
//! - **Several lines in one read** (SMTP pipelining, RFC 2920; a POP3 server's multi-line
//!   answer; IMAP's untagged responses before the tagged one): what follows the first line
//!   end stays in the buffer for the next call. A reader that did one `recv` per command
//!   and took it as one answer would lose the next ones, or read every later answer one
//!   command late.
//! - **Bounded**: a line longer than the caller's limit is not stored. Its bytes are
//!   dropped up to its line end, and the caller is told [`Line::TooLong`] (RFC 5321
//!   §4.5.3.1.10: "500 Line too long"). Memory stays at one buffer whatever the peer sends.
//! - **Counted bytes**: IMAP sends a message as a *literal*, `{312}` at the end of a line
//!   and then exactly 312 bytes, which may hold any bytes, line ends included (RFC 9051
//!   §4.3). [`LineReader::read_exact`] takes them from the same buffer: bytes already
//!   received after the `{312}` line are part of the literal, not lost.
//!
//! Line ends are CRLF (RFC 5321 §2.3.8, RFC 9051 §2.2, RFC 1939 §3); a bare LF is accepted
//! too *(decided, SPEC `smtpd/1`)*, because hand-typed sessions (`nc`) and many first
//! clients send one.
//!
//! The blocking and `poll` servers (calc, password, the chats) cut lines with a sibling of
//! this reader, [`crate::line_server::lines`]: there the server makes the `recv` calls
//! itself (a thread per client, or one `poll` loop for all), so the buffer is handed bytes
//! instead of reading them, and the end of the stream is the caller's to see.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::BUFFER_SIZE;

/// What [`LineReader::read_line`] found.
///
/// Only a failing connection (a reset) is an error; everything a peer may legitimately or
/// clumsily do is one of these.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A whole line, without its line end (`\r\n`, or a bare `\n`).
    Complete(&'a [u8]),
    /// A line longer than the limit. Its bytes, up to and including its line end, were
    /// dropped; the next call reads the line after it.
    TooLong,
    /// The peer closed its side between two lines: the normal end of a stream.
    Closed,
    /// The peer closed its side in the middle of a line. The partial line is dropped: a
    /// line without its line end is not a command (nor a line of a message).
    Truncated,
}

/// A stream and the bytes received from it that are not yet handed out as lines.
pub struct LineReader<S> {
    stream: S,
    /// What has been received: `buffer[start..end]` is not yet handed out.
    buffer: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<S> LineReader<S> {
    /// Reads lines from `stream` through a buffer of [`BUFFER_SIZE`] bytes.
    pub fn new(stream: S) -> LineReader<S> {
        LineReader {
            stream,
            // On the heap: allocated once per connection, never grown.
            buffer: vec![0u8; BUFFER_SIZE].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The stream, to write on it (replies, commands).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream, to ask it something (is it TLS?).
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The bytes received but not yet handed out as lines.
    ///
    /// A client checks it is empty before it starts TLS (RFC 3207 §6): bytes that arrived
    /// before the handshake were sent in clear text, by anyone on the path.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }

    /// Gives the stream back (to start TLS over it), dropping what is buffered.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: AsyncRead + Unpin> LineReader<S> {
    /// Reads the next line, of at most `limit` bytes line end included (RFC 5321
    /// §4.5.3.1 counts line lengths with their CRLF).
    ///
    /// ```text
    /// buffer:  [ handed out | "MAIL FROM:<x>\r\nRC" | free ]
    ///                        ^start                 ^end
    /// line end found   -> hand out "MAIL FROM:<x>", start moves past "\r\n"
    /// no line end      -> read more after `end` (moving the rest to the front if full)
    /// `limit` bytes and no line end -> too long: drop them, and then up to the line end
    /// ```
    ///
    /// # Panics
    ///
    /// If `limit` is 0 or larger than the buffer ([`BUFFER_SIZE`]).
    pub async fn read_line(&mut self, limit: usize) -> io::Result<Line<'_>> {
        assert!(
            (1..=self.buffer.len()).contains(&limit),
            "a line limit must fit the buffer"
        );
        // How much of `buffer[start..end]` is known to hold no line end: each byte is
        // searched once, however many reads the line takes.
        let mut searched = 0;
        // True once the line is known to be too long: its bytes are dropped as they come.
        let mut dropping = false;
        loop {
            let unread = &self.buffer[self.start + searched..self.end];
            if let Some(at) = unread.iter().position(|&byte| byte == b'\n') {
                let line_start = self.start;
                let newline = self.start + searched + at;
                self.start = newline + 1;
                if dropping || newline + 1 - line_start > limit {
                    return Ok(Line::TooLong);
                }
                // RFC 5321 §2.3.8: the line end is CRLF; a bare LF is taken too.
                let mut line_end = newline;
                if line_end > line_start && self.buffer[line_end - 1] == b'\r' {
                    line_end -= 1;
                }
                return Ok(Line::Complete(&self.buffer[line_start..line_end]));
            }
            searched = self.end - self.start;
            if searched >= limit {
                // `limit` bytes and still no line end: whatever follows, the line is too
                // long. Forget its bytes, so that the buffer never holds more than one
                // buffer's worth of it, and drop the rest as it arrives.
                dropping = true;
                self.start = 0;
                self.end = 0;
                searched = 0;
            }
            if self.end == self.buffer.len() {
                // The line runs to the end of the buffer: move it to the front, so the
                // next read has room after it. (It is shorter than `limit`, which fits.)
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            // A read returns whatever has arrived, possibly a single byte (SPEC
            // message/4 holds for every stream): loop until a line end comes.
            let received = self.stream.read(&mut self.buffer[self.end..]).await?;
            if received == 0 {
                let partial = dropping || self.start < self.end;
                self.start = self.end;
                return Ok(if partial {
                    Line::Truncated
                } else {
                    Line::Closed
                });
            }
            self.end += received;
        }
    }

    /// Reads exactly `count` bytes and appends them to `into`: what is buffered first,
    /// then from the stream, a buffer at a time. Returns `false` if the peer closed
    /// before `count` bytes came (what did come is appended).
    ///
    /// ```text
    /// line:    "* 1 FETCH (BODY[] {12}"        -> the caller sees "{12}": 12 bytes follow
    /// buffer:  [ "Hello\r\nWor" | free ]         10 of them already received: taken first
    /// reads:   "ld)\r\n"                        2 more from the stream; ")" stays buffered
    /// ```
    ///
    /// The caller bounds `count` (an IMAP client refuses a literal larger than it will
    /// hold): the reader itself holds no more than its buffer.
    pub async fn read_exact(&mut self, count: usize, into: &mut Vec<u8>) -> io::Result<bool> {
        let mut wanted = count;
        loop {
            let take = wanted.min(self.end - self.start);
            into.extend_from_slice(&self.buffer[self.start..self.start + take]);
            self.start += take;
            wanted -= take;
            if wanted == 0 {
                return Ok(true);
            }
            // The buffer is empty (all of it was taken): read into all of it.
            self.start = 0;
            self.end = 0;
            let received = self.stream.read(&mut self.buffer[..]).await?;
            if received == 0 {
                return Ok(false);
            }
            self.end = received;
        }
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// A stream that delivers one chunk per read, as a socket delivers what has arrived.
    struct Chunks(VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buffer: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut chunk) = self.0.pop_front() {
                let fits = chunk.len().min(buffer.remaining());
                buffer.put_slice(&chunk[..fits]);
                if fits < chunk.len() {
                    self.0.push_front(chunk.split_off(fits));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// What the reader hands out, as owned values, for comparing.
    #[derive(Debug, PartialEq, Eq)]
    enum Seen {
        Line(Vec<u8>),
        TooLong,
        Truncated,
    }

    /// Every line read from `chunks` with `limit`, until the peer closes.
    async fn lines(chunks: &[&[u8]], limit: usize) -> Vec<Seen> {
        let stream = Chunks(chunks.iter().map(|chunk| chunk.to_vec()).collect());
        let mut reader = LineReader::new(stream);
        let mut seen = Vec::new();
        // Bounded: a reader that never ends fails the test instead of hanging it.
        for _ in 0..10_000 {
            match reader.read_line(limit).await.unwrap() {
                Line::Complete(line) => seen.push(Seen::Line(line.to_vec())),
                Line::TooLong => seen.push(Seen::TooLong),
                Line::Truncated => seen.push(Seen::Truncated),
                Line::Closed => return seen,
            }
        }
        panic!("the reader never saw the end of the stream");
    }

    fn line(bytes: &[u8]) -> Seen {
        Seen::Line(bytes.to_vec())
    }

    #[tokio::test]
    async fn line_ends_are_crlf_or_a_bare_lf_and_are_not_part_of_the_line() {
        let table: [(&[&[u8]], Vec<Seen>); 4] = [
            (&[b"NOOP\r\n"], vec![line(b"NOOP")]),
            (&[b"NOOP\n"], vec![line(b"NOOP")]),
            (&[b"\r\n"], vec![line(b"")]),
            // A CR inside a line is not a line end (RFC 5321 §2.3.8 forbids it; it is
            // the command parser's business, not the reader's).
            (&[b"a\rb\r\n"], vec![line(b"a\rb")]),
        ];
        for (chunks, expected) in table {
            assert_eq!(lines(chunks, 1000).await, expected, "{chunks:?}");
        }
    }

    #[tokio::test]
    async fn one_byte_pieces_are_reassembled() {
        let text = b"EHLO client\r\nQUIT\r\n";
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(
            lines(&chunks, 1000).await,
            vec![line(b"EHLO client"), line(b"QUIT")]
        );
    }

    #[tokio::test]
    async fn several_lines_in_one_read_are_handed_out_one_by_one() {
        let pipelined: &[u8] = b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n";
        assert_eq!(
            lines(&[pipelined], 1000).await,
            vec![
                line(b"MAIL FROM:<a@x>"),
                line(b"RCPT TO:<b@y>"),
                line(b"DATA")
            ]
        );
    }

    #[tokio::test]
    async fn a_crlf_split_between_reads_is_one_line_end() {
        assert_eq!(
            lines(&[b"NOOP\r", b"\nQUIT\r\n"], 1000).await,
            vec![line(b"NOOP"), line(b"QUIT")]
        );
    }

    #[tokio::test]
    async fn the_limit_counts_the_line_end() {
        // 8 bytes with CRLF: fits a limit of 8, not of 7.
        assert_eq!(lines(&[b"abcdef\r\n"], 8).await, vec![line(b"abcdef")]);
        assert_eq!(lines(&[b"abcdef\r\n"], 7).await, vec![Seen::TooLong]);
    }

    #[tokio::test]
    async fn a_too_long_line_is_dropped_to_its_end_and_the_next_line_is_read() {
        let long = vec![b'x'; 3000];
        let chunks: Vec<&[u8]> = vec![b"NOOP\r\n", &long, &long, b"\r\nQUIT\r\n"];
        assert_eq!(
            lines(&chunks, 1000).await,
            vec![line(b"NOOP"), Seen::TooLong, line(b"QUIT")]
        );
    }

    #[tokio::test]
    async fn a_too_long_line_sent_one_byte_at_a_time_is_dropped_too() {
        let mut text = vec![b'y'; 1500];
        text.extend_from_slice(b"\nRSET\n");
        let chunks: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(
            lines(&chunks, 1000).await,
            vec![Seen::TooLong, line(b"RSET")]
        );
    }

    #[tokio::test]
    async fn lines_that_straddle_the_end_of_the_buffer_are_moved_to_its_front() {
        // 4096 is not a multiple of 1000: lines keep crossing the buffer's end.
        let one: Vec<u8> = [vec![b'z'; 998], b"\r\n".to_vec()].concat();
        let text: Vec<u8> = one.iter().copied().cycle().take(one.len() * 9).collect();
        let seen = lines(&[&text], 1000).await;
        assert_eq!(seen, (0..9).map(|_| line(&one[..998])).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_close_in_the_middle_of_a_line_is_truncated_not_a_line() {
        assert_eq!(
            lines(&[b"QUIT\r\nMAIL FR"], 1000).await,
            vec![line(b"QUIT"), Seen::Truncated]
        );
        assert_eq!(lines(&[], 1000).await, vec![]);
    }

    #[tokio::test]
    async fn what_follows_a_line_stays_buffered() {
        let mut reader =
            LineReader::new(Chunks(VecDeque::from([b"220 ready\r\ninjected".to_vec()])));
        assert_eq!(
            reader.read_line(100).await.unwrap(),
            Line::Complete(b"220 ready")
        );
        assert_eq!(reader.buffered(), b"injected");
    }

    #[tokio::test]
    async fn exact_bytes_take_what_is_buffered_then_read_more_and_leave_the_rest() {
        let chunks = [
            b"{12}\r\nHello\r\nWor".to_vec(),
            b"ld)\r\nnext\r\n".to_vec(),
        ];
        let mut reader = LineReader::new(Chunks(VecDeque::from(chunks)));
        assert_eq!(
            reader.read_line(100).await.unwrap(),
            Line::Complete(b"{12}")
        );
        let mut literal = Vec::new();
        assert!(reader.read_exact(12, &mut literal).await.unwrap());
        assert_eq!(literal, b"Hello\r\nWorld");
        assert_eq!(reader.read_line(100).await.unwrap(), Line::Complete(b")"));
        assert_eq!(
            reader.read_line(100).await.unwrap(),
            Line::Complete(b"next")
        );
    }

    #[tokio::test]
    async fn exact_bytes_larger_than_the_buffer_sent_one_byte_at_a_time() {
        let body: Vec<u8> = (0..3 * BUFFER_SIZE)
            .map(|index| (index % 251) as u8)
            .collect();
        let mut text = body.clone();
        text.extend_from_slice(b"\r\nafter\r\n");
        let mut reader = LineReader::new(Chunks(text.chunks(1).map(<[u8]>::to_vec).collect()));
        let mut literal = Vec::new();
        assert!(reader.read_exact(body.len(), &mut literal).await.unwrap());
        assert_eq!(literal, body);
        assert_eq!(reader.read_line(100).await.unwrap(), Line::Complete(b""));
        assert_eq!(
            reader.read_line(100).await.unwrap(),
            Line::Complete(b"after")
        );
    }

    #[tokio::test]
    async fn exact_bytes_cut_short_by_a_close_say_so() {
        let mut reader = LineReader::new(Chunks(VecDeque::from([b"abc".to_vec()])));
        let mut literal = Vec::new();
        assert!(!reader.read_exact(5, &mut literal).await.unwrap());
        assert_eq!(literal, b"abc");
    }
}
