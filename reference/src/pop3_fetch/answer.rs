//! The server's answers: a status line, and for some commands the lines that follow it up
//! to a line holding only `.` (RFC 1939 §3).
//!
//! ```text
//! +OK 312 octets              <- the status: +OK or -ERR, then text
//! From: bob@example.com       <- the message, line by line
//! ..A line that starts with a dot.      <- sent with one more dot ("byte-stuffed")
//! .                           <- the end of the answer
//! ```
//!
//! A line of the message that starts with `.` is sent with another `.` in front, so that
//! it cannot be taken for the end; the reader takes one off (RFC 1939 §3). A reader that
//! keeps it prints `..A line`, one that waits for `\r\n.\r\n` in one `recv` waits forever
//! or stops early.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::mail_read::{Failure, MAX_MESSAGE, Wire};
use crate::net::Network;

/// A status line: `+OK` and its text, or `-ERR` and its text.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// `+OK` and the text after it.
    Ok(String),
    /// `-ERR` and the text after it: why the command failed.
    Err(String),
}

/// Reads a status line (RFC 1939 §3: `+OK` or `-ERR`, upper case, then a space and text
/// or nothing).
pub async fn read_status<S, N>(wire: &mut Wire<S, N>, command: &str) -> Result<Status, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let line = wire.line(command).await?;
    parse_status(&line).ok_or_else(|| Failure::Malformed {
        command: command.to_owned(),
        why: format!(
            "\"{}\" is not +OK or -ERR",
            String::from_utf8_lossy(&line).escape_debug()
        ),
    })
}

/// `+OK text` or `-ERR text`; `None` for anything else.
pub fn parse_status(line: &[u8]) -> Option<Status> {
    let text =
        |rest: &[u8]| String::from_utf8_lossy(rest.strip_prefix(b" ").unwrap_or(rest)).into_owned();
    if let Some(rest) = line.strip_prefix(b"+OK")
        && (rest.is_empty() || rest.starts_with(b" "))
    {
        return Some(Status::Ok(text(rest)));
    }
    if let Some(rest) = line.strip_prefix(b"-ERR")
        && (rest.is_empty() || rest.starts_with(b" "))
    {
        return Some(Status::Err(text(rest)));
    }
    None
}

/// Reads the lines of a multi-line answer after its `+OK`, up to the line `.`, with one
/// leading dot taken off each line that has one; the lines joined with CRLF, as the
/// message was. At most [`MAX_MESSAGE`] bytes.
pub async fn read_lines<S, N>(wire: &mut Wire<S, N>, command: &str) -> Result<Vec<u8>, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    let mut text = Vec::new();
    loop {
        let line = wire.line(command).await?;
        match unstuff(&line) {
            None => return Ok(text),
            Some(line) => {
                if text.len() + line.len() + 2 > MAX_MESSAGE {
                    return Err(Failure::TooLarge {
                        command: command.to_owned(),
                    });
                }
                text.extend_from_slice(line);
                text.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// One line of a multi-line answer as it was before stuffing, or `None` for the
/// terminating `.` (RFC 1939 §3).
pub fn unstuff(line: &[u8]) -> Option<&[u8]> {
    match line {
        b"." => None,
        _ => Some(line.strip_prefix(b".").unwrap_or(line)),
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_plus_ok_or_minus_err() {
        let table: [(&[u8], Option<Status>); 7] = [
            (b"+OK", Some(Status::Ok(String::new()))),
            (b"+OK 2 320", Some(Status::Ok("2 320".into()))),
            (b"-ERR [AUTH] no", Some(Status::Err("[AUTH] no".into()))),
            (b"-ERR", Some(Status::Err(String::new()))),
            (b"+OKAY", None),
            (b"+ok", None),
            (b"OK", None),
        ];
        for (line, expected) in table {
            assert_eq!(parse_status(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn a_leading_dot_is_taken_off_and_a_lone_dot_ends() {
        let table: [(&[u8], Option<&[u8]>); 5] = [
            (b".", None),
            (b"..", Some(b".")),
            (b"..A line", Some(b".A line")),
            (b"...", Some(b"..")),
            (b"plain", Some(b"plain")),
        ];
        for (line, expected) in table {
            assert_eq!(unstuff(line), expected, "{:?}", line.escape_ascii());
        }
    }
}
