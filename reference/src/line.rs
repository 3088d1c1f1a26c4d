//! Reading one line into a bounded buffer.
//!
//! The uppercase converters exchange one line of text (SPEC `upper/3`, `upper/4`): the
//! client reads it from stdin, the TCP server reads it from its client. A stream has no
//! idea of lines, so the reader loops until it has seen the newline, and a line can be of
//! any length, so the reader stops when its buffer is full. Both ends use [`read_line`].

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// The longest line the converters handle: 64 KiB.
///
/// SPEC `upper/3`: lines up to 64 KiB come back whole *(decided)*. A longer line is cut
/// after 65536 bytes, which then count as the line: memory stays bounded whatever the
/// peer sends (SPEC: "buffers are small and fixed", at most 64 KiB).
pub const MAX_LINE: usize = 65536;

/// Reads one line from `input` into `buffer` and returns its length.
///
/// The line ends after the first `\n` (which is part of it), at the end of input (a
/// client that half-closes without a newline still sends a line), or when `buffer` is
/// full. Bytes that arrived after the newline in the same read are not part of the line:
/// these programs exchange exactly one line, so they are dropped.
///
/// ```text
/// reads:  "hel" | "lo\nwor" | ...      ->  line "hello\n" (5 + 1 bytes; "wor" dropped)
/// reads:  "hello" | EOF                ->  line "hello" (no newline)
/// ```
pub async fn read_line<R>(input: &mut R, buffer: &mut [u8]) -> io::Result<usize>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut filled = 0;
    // A read returns whatever has arrived so far, possibly one byte of the line (SPEC
    // message/4 holds for every stream): loop until the line is complete.
    while filled < buffer.len() {
        let received = input.read(&mut buffer[filled..]).await?;
        if received == 0 {
            // End of input: the line is whatever came, with no newline.
            return Ok(filled);
        }
        // Only the bytes just received can hold the newline: the earlier ones were
        // searched already, so the whole search costs one pass over the line.
        let fresh = &buffer[filled..filled + received];
        if let Some(at) = fresh.iter().position(|&byte| byte == b'\n') {
            return Ok(filled + at + 1);
        }
        filled += received;
    }
    // The buffer is full and no newline came: the buffer is the line.
    Ok(filled)
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

    /// A reader that hands out one chunk per read (or what fits of it), then the end of
    /// input, as a socket delivers whatever has arrived.
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

    /// Reads a line from `chunks` (each arriving as one read) into a buffer of `capacity`.
    async fn line_of(chunks: &[&[u8]], capacity: usize) -> Vec<u8> {
        let mut input = Chunks(chunks.iter().map(|chunk| chunk.to_vec()).collect());
        let mut buffer = vec![0u8; capacity];
        let length = read_line(&mut input, &mut buffer).await.unwrap();
        buffer.truncate(length);
        buffer
    }

    #[tokio::test]
    async fn the_line_ends_after_its_newline() {
        assert_eq!(line_of(&[b"hello\n"], 64).await, b"hello\n");
    }

    #[tokio::test]
    async fn a_line_split_over_reads_is_reassembled() {
        assert_eq!(line_of(&[b"he", b"l", b"lo\n"], 64).await, b"hello\n");
    }

    #[tokio::test]
    async fn bytes_after_the_newline_are_not_part_of_the_line() {
        assert_eq!(line_of(&[b"one\ntwo\n"], 64).await, b"one\n");
        assert_eq!(line_of(&[b"on", b"e\ntw", b"o\n"], 64).await, b"one\n");
    }

    #[tokio::test]
    async fn end_of_input_ends_a_line_without_newline() {
        assert_eq!(line_of(&[b"no newline"], 64).await, b"no newline");
        assert_eq!(line_of(&[], 64).await, b"");
    }

    #[tokio::test]
    async fn a_line_longer_than_the_buffer_is_cut_to_the_buffer() {
        assert_eq!(line_of(&[b"abcdefgh\n"], 4).await, b"abcd");
        assert_eq!(line_of(&[b"ab", b"cdefgh"], 4).await, b"abcd");
    }
}
