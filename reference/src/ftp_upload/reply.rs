//! The server's replies on the control connection, read whole however they arrive (RFC
//! 959 §4.2).
//!
//! A reply is a three-digit code and text. A multi-line reply starts with the code and a
//! `-`, and ends with the first line that starts with the same code and a space; the lines
//! between may hold anything, even digits (§4.2: "the user-process then simply needs to
//! search for the second occurrence of the same reply code, followed by <SP>"):
//!
//! ```text
//! 211-Features:              <- "-": more lines follow
//!  EPSV                      <- any text (FTP's continuation lines need no code,
//!  PASV                         unlike SMTP's)
//! 211 End                    <- the same code and a space: the last line
//! ```
//!
//! The first digit says what happened (§4.2.1): 1 preliminary (150: "go ahead, send the
//! data"; a second reply follows), 2 done, 3 more needed (331 after USER: now PASS), 4
//! failed this time, 5 failed for good.
//!
//! A first client reads one `recv(1024)` and takes it as the reply. It may hold part of a
//! reply (the server wrote it in pieces) or two (the 150 and the 226 of a short transfer
//! often arrive together): the second is then read as the answer to the next command, and
//! every answer after it is one command late. Here the line reader ([`crate::lines`])
//! hands out lines, and [`read_reply`] reads lines until the reply's last.

use std::io;

use tokio::io::AsyncRead;

use crate::lines::LineReader;
use crate::smtp_client::reply::reply_line;
pub use crate::smtp_client::reply::{MAX_REPLY_LINE, MAX_REPLY_LINES, Received, Reply};

/// The code of a reply's first line, and whether more lines follow (`-`).
///
/// | line                 | parsed        |
/// |----------------------|---------------|
/// | `220 ready`          | 220, last     |
/// | `211-Features:`      | 211, more     |
/// | `150`                | 150, last     |
/// | `230Logged in`       | `None`        |
/// | `099 too low`        | `None`        |
pub fn parse_first_line(line: &[u8]) -> Option<(u16, bool)> {
    let [first, second, third, rest @ ..] = line else {
        return None;
    };
    if !(b'1'..=b'5').contains(first) || !second.is_ascii_digit() || !third.is_ascii_digit() {
        return None;
    }
    let code = u16::from(first - b'0') * 100 + u16::from(second - b'0') * 10;
    let code = code + u16::from(third - b'0');
    match rest {
        [] | [b' ', ..] => Some((code, true)),
        [b'-', ..] => Some((code, false)),
        _ => None,
    }
}

/// The text of a reply's first or last line: after its code and separator.
fn text_after_code(line: &[u8]) -> String {
    String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned()
}

/// Reads one whole reply.
pub async fn read_reply<S: AsyncRead + Unpin>(
    connection: &mut LineReader<S>,
) -> io::Result<Received> {
    let mut code = None;
    let mut lines = Vec::new();
    // Bounded: at most MAX_REPLY_LINES lines, each at most MAX_REPLY_LINE bytes.
    while lines.len() < MAX_REPLY_LINES {
        let line = match reply_line(connection).await? {
            Ok(line) => line,
            Err(ended) => return Ok(ended),
        };
        let Some(first) = code else {
            let Some((parsed, last)) = parse_first_line(line) else {
                let shown = String::from_utf8_lossy(line).escape_debug().to_string();
                return Ok(Received::Malformed(format!(
                    "\"{shown}\" is not an FTP reply"
                )));
            };
            lines.push(text_after_code(line));
            if last {
                return Ok(Received::Reply(Reply {
                    code: parsed,
                    lines,
                }));
            }
            code = Some(parsed);
            continue;
        };
        // RFC 959 §4.2: the reply ends at the first line of the same code and a space.
        let end = format!("{first} ");
        let last = line.starts_with(end.as_bytes()) || line == first.to_string().as_bytes();
        lines.push(if last {
            text_after_code(line)
        } else {
            // A line between: any text, kept whole.
            String::from_utf8_lossy(line).into_owned()
        });
        if last {
            return Ok(Received::Reply(Reply { code: first, lines }));
        }
    }
    let why = format!("a reply of more than {MAX_REPLY_LINES} lines");
    Ok(Received::Malformed(why))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed first line: its code, and whether it is the reply's last.
    type Parsed = Option<(u16, bool)>;

    #[test]
    fn first_lines_are_a_code_then_a_dash_or_a_space_or_nothing() {
        let table: [(&[u8], Parsed); 8] = [
            (b"220 ready", Some((220, true))),
            (b"211-Features:", Some((211, false))),
            (b"150", Some((150, true))),
            (b"150 Ok to send data.", Some((150, true))),
            (b"230Logged in", None),
            (b"099 too low", None),
            (b"650 too high", None),
            (b"22", None),
        ];
        for (line, expected) in table {
            assert_eq!(
                parse_first_line(line),
                expected,
                "{:?}",
                line.escape_ascii()
            );
        }
    }

    async fn replies(input: &[u8], slices: usize) -> Vec<Received> {
        let (mut client, server) = tokio::io::duplex(64);
        let input = input.to_vec();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for piece in input.chunks(slices) {
                client.write_all(piece).await.unwrap();
            }
        });
        let mut reader = LineReader::new(server);
        let mut all = Vec::new();
        loop {
            let received = read_reply(&mut reader).await.unwrap();
            let closed = received == Received::Closed;
            all.push(received);
            if closed {
                return all;
            }
        }
    }

    #[tokio::test]
    async fn multi_line_replies_end_at_their_code_and_a_space_however_sliced() {
        let input = b"211-Features:\r\n EPSV\r\n211-not the end\r\n 226 nor this\r\n211 End\r\n150 Ok\r\n226 Done\r\n";
        for slices in [1, 3, 1000] {
            let all = replies(input, slices).await;
            assert_eq!(
                all,
                [
                    Received::Reply(Reply {
                        code: 211,
                        lines: vec![
                            "Features:".into(),
                            " EPSV".into(),
                            "211-not the end".into(),
                            " 226 nor this".into(),
                            "End".into()
                        ]
                    }),
                    Received::Reply(Reply {
                        code: 150,
                        lines: vec!["Ok".into()]
                    }),
                    Received::Reply(Reply {
                        code: 226,
                        lines: vec!["Done".into()]
                    }),
                    Received::Closed,
                ],
                "slices of {slices}"
            );
        }
    }

    #[tokio::test]
    async fn garbage_and_a_cut_reply_are_said_as_such() {
        let all = replies(b"hello\r\n", 100).await;
        assert!(matches!(&all[0], Received::Malformed(why) if why.contains("hello")));
        let all = replies(b"211-Features:\r\n EPSV\r\n", 100).await;
        assert_eq!(all, [Received::Closed]);
    }
}
