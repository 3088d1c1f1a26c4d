//! The message as it goes on the wire after DATA: CRLF line ends, dot-stuffing, and the
//! final `.` (SPEC `smtp/2`).
//!
//! After `354`, the server reads lines until one holds only `.` (RFC 5321 §4.1.1.4). A
//! message line that starts with `.` would end the message early, or be misread; so the
//! client doubles a leading dot on every line, and the server removes it (RFC 5321
//! §4.5.2, "transparency"):
//!
//! ```text
//! message lines      on the wire
//! "Hi"               "Hi\r\n"
//! ".hidden"          "..hidden\r\n"      <- doubled
//! "."                "..\r\n"            <- not the end: doubled too
//! "last" (no LF)     "last\r\n"          <- the last line gets its CRLF
//!                    ".\r\n"             <- the end of the message
//! ```
//!
//! Line ends become CRLF (RFC 5321 §2.3.8: "lines consist of zero or more data characters
//! terminated by the sequence CRLF"; SMTP has no other line end): a bare LF (Unix text)
//! and a bare CR (old Mac text) both become CRLF. Leaving a bare CR or LF in the data lets
//! `\n.\n` reach servers that read it as the end of the message while others do not: that
//! disagreement is the "SMTP smuggling" attack (2023), which hides a second message inside
//! the first.
//!
//! [`DotStuffer`] works on pieces of any size, so the message goes out one buffer at a
//! time; it remembers across pieces whether it is at the start of a line and whether the
//! last byte was a CR.

/// Turns message bytes into DATA bytes, piece by piece.
#[derive(Debug)]
pub struct DotStuffer {
    /// The next byte starts a line (a leading dot there is doubled).
    at_line_start: bool,
    /// The last byte was a CR. Its line end (CRLF) is written already; a LF right after
    /// it is part of that line end, not a second one.
    after_cr: bool,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer::new()
    }
}

impl DotStuffer {
    /// At the start of the message, which is the start of a line.
    pub fn new() -> DotStuffer {
        DotStuffer {
            at_line_start: true,
            after_cr: false,
        }
    }

    /// Appends to `out` the DATA bytes of the next `piece` of the message. `out` grows by
    /// at most twice `piece`'s length (each byte is at most a line end or a doubled dot).
    ///
    /// The line end of a CR is written with the CR, not with the byte after it: written
    /// later, a CR at the end of one piece would add its two bytes to the next piece's,
    /// which could then grow `out` by two more than twice its length.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        for &byte in piece {
            // CR LF: one line end, written with the CR.
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                // RFC 5321 §2.3.8: a CR ends a line, whatever follows it; a bare LF too.
                // Both are written as CRLF (SPEC smtp/2).
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    // RFC 5321 §4.5.2: dot-stuffing.
                    if self.at_line_start && byte == b'.' {
                        out.push(b'.');
                    }
                    out.push(byte);
                    self.at_line_start = false;
                }
            }
        }
    }

    /// Appends the end: the last line's CRLF if it had none, then `.` CRLF (RFC 5321
    /// §4.1.1.4: the message ends with `CRLF.CRLF`, and the first CRLF belongs to its
    /// last line).
    pub fn finish(self, out: &mut Vec<u8>) {
        if !self.at_line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// The DATA bytes of a whole message, end included: [`DotStuffer`] in one piece.
pub fn stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() * 2 + 5);
    let mut stuffer = DotStuffer::new();
    stuffer.push(message, &mut out);
    stuffer.finish(&mut out);
    out
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_dots_are_doubled_and_only_they() {
        let table: [(&[u8], &[u8]); 6] = [
            (b".hidden\r\n", b"..hidden\r\n.\r\n"),
            (b".\r\n", b"..\r\n.\r\n"),
            (b"..\r\n", b"...\r\n.\r\n"),
            (b"a.b.\r\n", b"a.b.\r\n.\r\n"),
            (
                b"one\r\n.two\r\nthree\r\n",
                b"one\r\n..two\r\nthree\r\n.\r\n",
            ),
            (b" .indented\r\n", b" .indented\r\n.\r\n"),
        ];
        for (message, wire) in table {
            assert_eq!(stuff(message), wire, "{:?}", message.escape_ascii());
        }
    }

    #[test]
    fn every_line_end_becomes_crlf() {
        let table: [(&[u8], &[u8]); 6] = [
            (b"a\nb\n", b"a\r\nb\r\n.\r\n"),
            (b"a\r\nb\r\n", b"a\r\nb\r\n.\r\n"),
            (b"a\rb\r", b"a\r\nb\r\n.\r\n"),
            (b"a\n\nb\n", b"a\r\n\r\nb\r\n.\r\n"),
            (b"a\r\r\nb", b"a\r\n\r\nb\r\n.\r\n"),
            // A bare LF then a dot: the dot starts a line, so it is doubled.
            (b"a\n.\nb", b"a\r\n..\r\nb\r\n.\r\n"),
        ];
        for (message, wire) in table {
            assert_eq!(stuff(message), wire, "{:?}", message.escape_ascii());
        }
    }

    #[test]
    fn the_last_line_gets_its_crlf_and_the_end_follows() {
        let table: [(&[u8], &[u8]); 4] = [
            (b"no newline", b"no newline\r\n.\r\n"),
            (b"", b".\r\n"),
            (b"\r\n", b"\r\n.\r\n"),
            (b".", b"..\r\n.\r\n"),
        ];
        for (message, wire) in table {
            assert_eq!(stuff(message), wire, "{:?}", message.escape_ascii());
        }
    }

    /// Found by the property `pieces_of_any_size_give_the_same_bytes`: the line end of a
    /// CR that ended one piece was written with the next piece, which then grew by more
    /// than twice its length, and the client's fixed buffer with it.
    #[test]
    fn a_piece_never_makes_more_than_twice_its_length() {
        let mut stuffer = DotStuffer::new();
        let mut out = Vec::new();
        stuffer.push(b"a\r", &mut out);
        assert_eq!(out, b"a\r\n");
        out.clear();
        stuffer.push(b".\n.", &mut out);
        assert_eq!(out, b"..\r\n..");
        assert!(out.len() <= 2 * 3);
    }

    #[test]
    fn pieces_of_any_size_give_the_same_bytes() {
        let message = b"first\r\n.second\n\r.third\r\r\nlast";
        let whole = stuff(message);
        for size in 1..message.len() {
            let mut out = Vec::new();
            let mut stuffer = DotStuffer::new();
            for piece in message.chunks(size) {
                stuffer.push(piece, &mut out);
            }
            stuffer.finish(&mut out);
            assert_eq!(out, whole, "pieces of {size}");
        }
    }
}
