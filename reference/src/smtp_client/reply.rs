//! The server's replies: reading them whole, however they arrive (RFC 5321 §4.2).
//!
//! A reply is a three-digit code and text. It may span several lines: every line but the
//! last has a `-` after the code, the last a space (or nothing):
//!
//! ```text
//! 250-mail.example.com       <- "-": more lines follow
//! 250-8BITMIME
//! 250-STARTTLS
//! 250 SIZE 10485760          <- " ": the last line of this reply
//! ```
//!
//! The first digit is what matters to a client (§4.2.1): 2 success, 3 "go on" (354 after
//! DATA, 334 during AUTH), 4 temporary failure, 5 permanent failure.
//!
//! A first client reads one `recv(1024)` and takes it as the reply. It may hold part of a
//! reply (the server wrote it in pieces, the network cut it), or two replies: reading the
//! second as the answer to the next command shifts every later answer by one. Here the
//! line reader ([`crate::lines`], shared with the server) hands out lines, and
//! [`read_reply`] reads lines until the one without a `-`.

use std::fmt;
use std::io;

use tokio::io::AsyncRead;

use crate::BUFFER_SIZE;
use crate::lines::{Line, LineReader};

/// The longest reply line taken, CRLF included. RFC 5321 §4.5.3.1.5 sets 512; servers send
/// longer ones (long EHLO lines), so a client is lenient, up to one buffer.
pub const MAX_REPLY_LINE: usize = BUFFER_SIZE;

/// The most lines of one reply. RFC 5321 sets no limit; a bound stops a server that sends
/// `250-` lines forever from growing the client's memory forever.
pub const MAX_REPLY_LINES: usize = 100;

/// One whole reply: its code and the text of each of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code, 200 to 599.
    pub code: u16,
    /// The text after the code and its `-` or space, line by line (may be empty).
    pub lines: Vec<String>,
}

impl fmt::Display for Reply {
    /// `550 no such user`, or for several lines `250 first / second / ...`, without
    /// control characters: a server's text must not drive the user's terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: String = self
            .lines
            .join(" / ")
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        if text.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {text}", self.code)
        }
    }
}

/// One reply line, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyLine<'a> {
    /// The three-digit reply code (`250`).
    pub code: u16,
    /// No `-` after the code: the reply ends with this line.
    pub last: bool,
    /// The text after the code and its separator, without the line's end.
    pub text: &'a [u8],
}

/// Parses one reply line (without its line end), or `None` if it is not one.
///
/// RFC 5321 §4.2: `Reply-code [ ("-" / SP) textstring ]`, where the code is `[2-5][0-5][0-9]`.
///
/// | line           | parsed                              |
/// |----------------|-------------------------------------|
/// | `250 OK`       | 250, last, `OK`                     |
/// | `250-STARTTLS` | 250, more follow, `STARTTLS`        |
/// | `354`          | 354, last, empty                    |
/// | `25O OK`       | `None`                              |
pub fn parse_reply_line(line: &[u8]) -> Option<ReplyLine<'_>> {
    let [first, second, third, rest @ ..] = line else {
        return None;
    };
    let valid =
        (b'2'..=b'5').contains(first) && (b'0'..=b'5').contains(second) && third.is_ascii_digit();
    if !valid {
        return None;
    }
    let code = u16::from(first - b'0') * 100 + u16::from(second - b'0') * 10;
    let code = code + u16::from(third - b'0');
    match rest {
        [] => Some(ReplyLine {
            code,
            last: true,
            text: b"",
        }),
        [b' ', text @ ..] => Some(ReplyLine {
            code,
            last: true,
            text,
        }),
        [b'-', text @ ..] => Some(ReplyLine {
            code,
            last: false,
            text,
        }),
        _ => None,
    }
}

/// What came when a reply was awaited.
///
/// Only a failing connection is an `io::Error`; a server that closes or talks nonsense is
/// an expected condition.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// A whole reply.
    Reply(Reply),
    /// The server closed the connection (between lines or in the middle of one).
    Closed,
    /// Not an SMTP reply; says why.
    Malformed(String),
}

/// The next line of a reply (without its line end), or what ended the reply instead: the
/// server closed, or sent a line longer than [`MAX_REPLY_LINE`]. (FTP's replies are read
/// with it too: `crate::ftp_upload::reply`.)
pub async fn reply_line<S>(connection: &mut LineReader<S>) -> io::Result<Result<&[u8], Received>>
where
    S: AsyncRead + Unpin,
{
    Ok(match connection.read_line(MAX_REPLY_LINE).await? {
        Line::Complete(line) => Ok(line),
        Line::Closed | Line::Truncated => Err(Received::Closed),
        Line::TooLong => Err(Received::Malformed(format!(
            "a reply line longer than {MAX_REPLY_LINE} bytes"
        ))),
    })
}

/// Reads one whole reply: lines until one without a `-` after its code.
pub async fn read_reply<S>(connection: &mut LineReader<S>) -> io::Result<Received>
where
    S: AsyncRead + Unpin,
{
    let mut code = None;
    let mut lines = Vec::new();
    // Bounded: at most MAX_REPLY_LINES lines, each at most MAX_REPLY_LINE bytes.
    while lines.len() < MAX_REPLY_LINES {
        let line = match reply_line(connection).await? {
            Ok(line) => line,
            Err(ended) => return Ok(ended),
        };
        let Some(parsed) = parse_reply_line(line) else {
            let shown = String::from_utf8_lossy(line).escape_debug().to_string();
            return Ok(Received::Malformed(format!(
                "\"{shown}\" is not a reply line"
            )));
        };
        // RFC 5321 §4.2.1: every line of a multi-line reply has the same code.
        let first = *code.get_or_insert(parsed.code);
        if first != parsed.code {
            let why = format!("codes {first} and {} in one reply", parsed.code);
            return Ok(Received::Malformed(why));
        }
        lines.push(String::from_utf8_lossy(parsed.text).into_owned());
        if parsed.last {
            return Ok(Received::Reply(Reply {
                code: parsed.code,
                lines,
            }));
        }
    }
    let why = format!("a reply of more than {MAX_REPLY_LINES} lines");
    Ok(Received::Malformed(why))
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed reply line as a tuple: code, last, text.
    type Parsed<'a> = Option<(u16, bool, &'a [u8])>;

    #[test]
    fn reply_lines_are_a_code_then_a_dash_or_a_space_or_nothing() {
        let table: [(&[u8], Parsed); 10] = [
            (b"250 OK", Some((250, true, b"OK"))),
            (b"250-STARTTLS", Some((250, false, b"STARTTLS"))),
            (b"354", Some((354, true, b""))),
            (b"250 ", Some((250, true, b""))),
            (
                b"550 5.1.1 no such user",
                Some((550, true, b"5.1.1 no such user")),
            ),
            (b"25O OK", None),
            (b"650 too high", None),
            (b"260 bad second digit", None),
            (b"250OK", None),
            (b"25", None),
        ];
        for (line, expected) in table {
            let parsed = parse_reply_line(line).map(|reply| (reply.code, reply.last, reply.text));
            assert_eq!(parsed, expected, "{:?}", line.escape_ascii());
        }
    }

    /// Reads every reply of `bytes`, delivered in pieces of `piece` bytes.
    async fn replies(bytes: &[u8], piece: usize) -> Vec<Received> {
        let (mut writer, reader) = tokio::io::duplex(piece);
        let bytes = bytes.to_vec();
        let feeding = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            writer.write_all(&bytes).await.unwrap();
        });
        let mut connection = LineReader::new(reader);
        let mut received = Vec::new();
        for _ in 0..100 {
            match read_reply(&mut connection).await.unwrap() {
                Received::Closed => break,
                other => received.push(other),
            }
        }
        feeding.await.unwrap();
        received
    }

    fn reply(code: u16, lines: &[&str]) -> Received {
        Received::Reply(Reply {
            code,
            lines: lines.iter().map(|line| line.to_string()).collect(),
        })
    }

    #[tokio::test]
    async fn a_multi_line_reply_is_read_whole_even_one_byte_at_a_time() {
        let ehlo = b"250-mail.example\r\n250-STARTTLS\r\n250 SIZE 100\r\n";
        for piece in [1, 7, 4096] {
            assert_eq!(
                replies(ehlo, piece).await,
                [reply(250, &["mail.example", "STARTTLS", "SIZE 100"])],
                "pieces of {piece}"
            );
        }
    }

    #[tokio::test]
    async fn two_replies_in_one_read_are_two_replies() {
        assert_eq!(
            replies(b"250 OK\r\n354 go ahead\r\n", 4096).await,
            [reply(250, &["OK"]), reply(354, &["go ahead"])]
        );
    }

    #[tokio::test]
    async fn what_is_not_a_reply_is_malformed() {
        let table: [&[u8]; 3] = [
            b"HTTP/1.1 400 Bad Request\r\n",
            b"250-first\r\n251 second\r\n",
            b"hello\n",
        ];
        for bytes in table {
            let received = replies(bytes, 4096).await;
            assert!(
                matches!(received.first(), Some(Received::Malformed(_))),
                "{:?}: {received:?}",
                bytes.escape_ascii()
            );
        }
    }

    #[tokio::test]
    async fn endless_continuation_lines_are_cut_off() {
        let endless: Vec<u8> = b"250-more\r\n".repeat(MAX_REPLY_LINES + 1);
        let received = replies(&endless, 4096).await;
        assert!(
            matches!(received.first(), Some(Received::Malformed(_))),
            "{received:?}"
        );
    }

    #[test]
    fn a_reply_is_shown_on_one_line_without_control_characters() {
        let shown = Reply {
            code: 550,
            lines: vec!["no\x1b[31m".into(), "such user".into()],
        };
        assert_eq!(shown.to_string(), "550 no?[31m / such user");
    }
}
