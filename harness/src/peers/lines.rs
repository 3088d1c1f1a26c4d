//! Reading a line-based protocol (SMTP) from a stream the way the harness's peers must:
//! however the bytes are sliced, several lines in one read kept for the next call, and
//! bounded.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads the next line, through its `\n`, keeping what follows it in `pending`.
///
/// `received` sees every piece as it is read (for the transcript), and an empty piece when
/// the peer closes. Returns `None` once the peer closed between lines; a line cut by the
/// close, or one of `max` bytes without its `\n`, is returned as it is (without `\n`).
pub async fn next_line(
    reader: &mut (impl AsyncRead + Unpin + ?Sized),
    pending: &mut Vec<u8>,
    max: usize,
    mut received: impl FnMut(&[u8]),
) -> io::Result<Option<Vec<u8>>> {
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
            return Ok(Some(pending.drain(..=end).collect()));
        }
        if pending.len() >= max {
            return Ok(Some(std::mem::take(pending)));
        }
        let read = reader.read(&mut buffer).await?;
        received(&buffer[..read]);
        if read == 0 {
            return Ok((!pending.is_empty()).then(|| std::mem::take(pending)));
        }
        pending.extend_from_slice(&buffer[..read]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_come_whole_the_rest_is_kept_and_a_cut_line_is_returned() {
        let mut input: &[u8] = b"EHLO a\r\nMAIL FROM:<x>\r\nRCPT";
        let mut pending = Vec::new();
        let mut pieces = 0;
        let mut lines = Vec::new();
        for _ in 0..4 {
            let line = next_line(&mut input, &mut pending, 64, |_| pieces += 1)
                .await
                .unwrap();
            lines.push(line);
        }
        let expected: [Option<&[u8]>; 4] = [
            Some(b"EHLO a\r\n"),
            Some(b"MAIL FROM:<x>\r\n"),
            Some(b"RCPT"),
            None,
        ];
        assert_eq!(
            lines.iter().map(Option::as_deref).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(pieces, 3, "one read of data, then two ends of stream");
    }

    #[tokio::test]
    async fn a_line_without_end_stops_at_the_limit() {
        let mut input: &[u8] = b"0123456789\n";
        let mut pending = Vec::new();
        let line = next_line(&mut input, &mut pending, 4, |_| {})
            .await
            .unwrap();
        // The first read brought all 11 bytes: the line ends at its `\n`, within the read.
        assert_eq!(line.as_deref(), Some(&b"0123456789\n"[..]));
        let mut long: &[u8] = b"0123456789";
        let line = next_line(&mut long, &mut Vec::new(), 4, |_| {})
            .await
            .unwrap();
        assert_eq!(line.as_deref(), Some(&b"0123456789"[..]));
    }
}
