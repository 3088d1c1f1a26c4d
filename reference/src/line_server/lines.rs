//! Cutting a byte stream into lines, in one fixed buffer: what every line server (calc, password) does with
//! what `recv` returns.
//!
//! `recv` returns whatever has arrived: half a line, a line and a half, three lines at
//! once (a client that pipelines). So the bytes go into a buffer, each complete line is
//! answered, and the rest waits for the next `recv`. The buffer never grows: a line longer
//! than it is answered with an error and skipped up to its end, so a client sending
//! gigabytes without a newline costs the server 4 KiB, not gigabytes.
//!
//! The same idea as [`crate::lines`] (the line reader of the asynchronous SMTP, IMAP and
//! POP3 programs), turned inside out: here the server makes the `recv` calls itself (a
//! thread per client, or one `poll` loop for all of them) and hands the bytes in, and it
//! sees the end of the stream itself (`recv` returns 0), so a line here is only ever
//! whole ([`Line::Text`]) or too long; `crate::lines` reads from the stream and also
//! tells the caller when it closed.

/// The longest line taken, end included.
pub const MAX_LINE: usize = 4096;

/// One complete line, without its end (`\n`, and a `\r` before it).
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'b> {
    /// A whole line, within [`MAX_LINE`] bytes with its end: its bytes, without the end.
    Text(&'b [u8]),
    /// A line longer than [`MAX_LINE`]: its bytes are gone.
    TooLong,
}

/// The bytes received and not yet answered, for one client.
pub struct Lines {
    buffer: Box<[u8; MAX_LINE]>,
    filled: usize,
    /// Inside a line that was too long: skip up to its end.
    skipping: bool,
}

impl Default for Lines {
    fn default() -> Lines {
        Lines {
            buffer: Box::new([0; MAX_LINE]),
            filled: 0,
            skipping: false,
        }
    }
}

impl Lines {
    /// Where the next `recv` writes: the free end of the buffer (never empty).
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.buffer[self.filled..]
    }

    /// Takes `count` bytes that `recv` just wrote into [`Lines::space`], and calls
    /// `on_line` for every line they complete.
    pub fn received(&mut self, count: usize, mut on_line: impl FnMut(Line<'_>)) {
        let scan_from = self.filled;
        self.filled += count;
        let mut start = 0;
        // Every newline among the new bytes ends a line.
        while let Some(offset) = self.buffer[scan_from.max(start)..self.filled]
            .iter()
            .position(|byte| *byte == b'\n')
        {
            let end = scan_from.max(start) + offset;
            if self.skipping {
                self.skipping = false;
                on_line(Line::TooLong);
            } else {
                let line = &self.buffer[start..end];
                on_line(Line::Text(line.strip_suffix(b"\r").unwrap_or(line)));
            }
            start = end + 1;
        }
        // Keep the unfinished line at the front of the buffer.
        self.buffer.copy_within(start..self.filled, 0);
        self.filled -= start;
        if self.filled == MAX_LINE {
            // Full and no newline: the line is too long. Forget it, answer at its end.
            self.filled = 0;
            self.skipping = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &mut Lines, bytes: &[u8]) -> Vec<String> {
        let mut seen = Vec::new();
        for chunk in bytes.chunks(MAX_LINE / 2 + 1) {
            let mut rest = chunk;
            while !rest.is_empty() {
                let space = lines.space();
                let count = space.len().min(rest.len());
                space[..count].copy_from_slice(&rest[..count]);
                rest = &rest[count..];
                lines.received(count, |line| {
                    seen.push(match line {
                        Line::Text(text) => String::from_utf8_lossy(text).into_owned(),
                        Line::TooLong => "<too long>".into(),
                    })
                });
            }
        }
        seen
    }

    #[test]
    fn lines_however_they_arrive() {
        let mut lines = Lines::default();
        assert_eq!(feed(&mut lines, b"1+1\r\n2+"), ["1+1"]);
        assert_eq!(feed(&mut lines, b"2\n\n3\n"), ["2+2", "", "3"]);
        let mut long = vec![b'1'; 3 * MAX_LINE];
        long.extend_from_slice(b"\n4\n");
        assert_eq!(feed(&mut lines, &long), ["<too long>", "4"]);
        let mut bytewise = Lines::default();
        let mut seen = Vec::new();
        for byte in b"5*5\n6\n" {
            seen.extend(feed(&mut bytewise, &[*byte]));
        }
        assert_eq!(seen, ["5*5", "6"]);
    }
}
