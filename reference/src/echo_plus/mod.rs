//! # `echo-plus`: echo with `download` and `run`
//!
//! Its contract: `scenarios/SPEC.md#echo-plus`, clauses `echo/1`–`echo/4`.
//!
//! The client reads commands from stdin, one per line, and sends each to the server:
//!
//! | line              | the server                                   | the client              |
//! |-------------------|----------------------------------------------|-------------------------|
//! | `download NAME`   | sends the file NAME of its root              | writes `client_BASENAME` |
//! | `run CMD ARG...`  | runs CMD (no shell) and sends its output     | prints the output       |
//! | anything else     | sends the line back                          | prints it               |
//!
//! ## The wire protocol
//!
//! The handout leaves it to the student; this one is chosen so that the client always
//! knows where an answer ends, whatever `recv` returns:
//!
//! ```text
//! client -> server   one command per line: `download notes.txt\n`
//! server -> client   `ok LENGTH\n` followed by exactly LENGTH bytes (the echoed line,
//!                    the file, the command's output), or `error: REASON\n` and nothing
//!                    more
//! ```
//!
//! Sending the length first is what makes a download binary-safe: the file's bytes may
//! contain newlines, NULs or the text `error:`, and the client still knows exactly which
//! bytes are the file and which are the next answer. A download that "reads until a short
//! `recv`" works on loopback and cuts files on a real network.
//!
//! ## Security (echo/4)
//!
//! `download` and `run` hand a remote stranger the server's files and programs, so:
//! - a file name is resolved inside the root and refused if it leaves it: `..`, an
//!   absolute path, or a symbolic link that points outside ([`files::resolve_inside`]);
//! - a command is split on spaces and started directly, never by a shell, so `;`, `|`,
//!   `$(...)` are plain characters; and only the commands named by `--allow-run` run
//!   ([`run`]).

pub mod client;
pub mod files;
pub mod run;
pub mod server;

/// The header of an answer that carries `length` bytes.
pub fn ok_header(length: u64) -> String {
    format!("ok {length}\n")
}

/// An answer's header line as the client reads it.
#[derive(Debug, PartialEq, Eq)]
pub enum Header {
    /// `ok LENGTH`: LENGTH bytes follow.
    Ok(u64),
    /// `error: REASON`: nothing follows.
    Error(String),
}

/// Reads a header line (without its `\n`), or says why it is not one.
pub fn parse_header(line: &[u8]) -> Result<Header, String> {
    let text = std::str::from_utf8(line).map_err(|_| "an answer header is not text".to_owned())?;
    let text = text.strip_suffix('\r').unwrap_or(text);
    if let Some(reason) = text.strip_prefix("error:") {
        return Ok(Header::Error(reason.trim().to_owned()));
    }
    match text.strip_prefix("ok ").map(str::parse::<u64>) {
        Some(Ok(length)) => Ok(Header::Ok(length)),
        _ => Err(format!("not an answer header: {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_back() {
        assert_eq!(parse_header(b"ok 20480"), Ok(Header::Ok(20480)));
        assert_eq!(
            parse_header(ok_header(7).trim_end().as_bytes()),
            Ok(Header::Ok(7))
        );
        assert_eq!(
            parse_header(b"error: no such file"),
            Ok(Header::Error("no such file".into()))
        );
        assert!(parse_header(b"ok -1").is_err());
        assert!(parse_header(b"hello").is_err());
        assert!(parse_header(b"\xff").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes: an answer header or a reason, never a panic.
        #[test]
        fn any_header_line_is_read_or_refused(line in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_header(&line);
        }

        /// Every length the server can announce is read back as that length.
        #[test]
        fn announced_lengths_come_back(length in any::<u64>()) {
            let header = ok_header(length);
            prop_assert_eq!(parse_header(header.trim_end().as_bytes()), Ok(Header::Ok(length)));
        }
    }
}
