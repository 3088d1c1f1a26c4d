//! The mail transaction (RFC 5321 §3.3): its envelope, its data, and the record printed
//! for it on stdout (SPEC `smtpd/2`).
//!
//! ```text
//! MAIL FROM:<a@example.com>     <- the envelope, as the commands gave it
//! RCPT TO:<b@example.com>
//! RCPT TO:<c@example.com>
//! DATA
//! Subject: hi                   <- each data line, dot-unstuffed, ending in "\n"
//!
//! .hidden                       <- was "..hidden" on the wire
//!                               <- an empty line ends the record
//! ```
//!
//! The record is built whole in memory (at most [`MAX_MESSAGE_SIZE`] of data) and printed
//! in one write, so that the records of clients served at the same time never mix.

/// The largest message accepted, announced as `SIZE` (RFC 1870): 10 MiB.
///
/// A server must bound what it keeps of a client; beyond this the message is refused with
/// 552 (RFC 5321 §4.5.3.1.10) and its lines are dropped as they come.
pub const MAX_MESSAGE_SIZE: usize = 10 * 1024 * 1024;

/// The most recipients of one message (RFC 5321 §4.5.3.1.8: at least 100 must be taken).
/// Beyond: 452 "Too many recipients" (§4.5.3.1.10).
pub const MAX_RECIPIENTS: usize = 100;

/// A mail transaction in progress: MAIL was accepted, and maybe some RCPTs.
#[derive(Debug, Default)]
pub struct Transaction {
    /// The reverse-path of `MAIL FROM:<...>`, without the brackets (empty for `<>`).
    pub reverse_path: String,
    /// The forward-paths of the accepted `RCPT TO:<...>`, in order.
    pub recipients: Vec<String>,
}

impl Transaction {
    /// The start of this message's record: the envelope and the `DATA` line.
    pub fn record_head(&self) -> Vec<u8> {
        let mut record = format!("MAIL FROM:<{}>\n", self.reverse_path);
        for recipient in &self.recipients {
            record.push_str(&format!("RCPT TO:<{recipient}>\n"));
        }
        record.push_str("DATA\n");
        record.into_bytes()
    }
}

/// Collects the lines of a message after `354`, within [`MAX_MESSAGE_SIZE`].
pub struct Data {
    /// The record so far: its head, then the dot-unstuffed lines, each ending in `\n`.
    record: Vec<u8>,
    /// The size of the message as sent (lines with their CRLF, before unstuffing).
    size: usize,
    /// Whether some line was longer than the server reads (1000 bytes).
    too_long: bool,
}

/// Why a message whose final `.` came is not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Larger than [`MAX_MESSAGE_SIZE`]: 552.
    TooLarge,
    /// A line longer than the limit: 500 "Line too long".
    LineTooLong,
}

impl Data {
    /// A message for `transaction`.
    pub fn new(transaction: &Transaction) -> Data {
        Data {
            record: transaction.record_head(),
            size: 0,
            too_long: false,
        }
    }

    /// Adds one line of the message, as received (without its line end).
    pub fn push_line(&mut self, line: &[u8]) {
        self.size += line.len() + 2;
        if self.size > MAX_MESSAGE_SIZE {
            // Dropped: the message is refused at its end anyway, and memory stays bounded.
            return;
        }
        self.record.extend_from_slice(unstuff(line));
        self.record.push(b'\n');
    }

    /// Notes a line that was too long to read (and was dropped).
    pub fn push_too_long(&mut self) {
        self.too_long = true;
    }

    /// The record to print (ended by its empty line), or why the message is refused.
    pub fn finish(mut self) -> Result<Vec<u8>, Refusal> {
        if self.size > MAX_MESSAGE_SIZE {
            return Err(Refusal::TooLarge);
        }
        if self.too_long {
            return Err(Refusal::LineTooLong);
        }
        self.record.push(b'\n');
        Ok(self.record)
    }
}

/// Whether `line` ends the message: exactly `.` (RFC 5321 §4.1.1.4, the `CRLF.CRLF`).
pub fn ends_data(line: &[u8]) -> bool {
    line == b"."
}

/// A data line as the sender wrote it: RFC 5321 §4.5.2, a leading `.` is removed (the
/// client doubled every leading dot, so that no line of the message reads as the end).
pub fn unstuff(line: &[u8]) -> &[u8] {
    line.strip_prefix(b".").unwrap_or(line)
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_leading_dot_is_removed_and_nothing_else() {
        let table: [(&[u8], &[u8]); 6] = [
            (b"..hidden", b".hidden"),
            (b"...", b".."),
            (b"..", b"."),
            (b"no dot", b"no dot"),
            (b"a.b.", b"a.b."),
            (b"", b""),
        ];
        for (line, expected) in table {
            assert_eq!(unstuff(line), expected, "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn only_a_lone_dot_ends_the_data() {
        assert!(ends_data(b"."));
        for line in [&b".."[..], b". ", b" .", b"", b".x"] {
            assert!(!ends_data(line), "{:?}", line.escape_ascii());
        }
    }

    #[test]
    fn the_record_is_the_envelope_then_the_unstuffed_lines_then_an_empty_line() {
        let transaction = Transaction {
            reverse_path: "a@example.com".into(),
            recipients: vec!["b@example.com".into(), "c@example.com".into()],
        };
        let mut data = Data::new(&transaction);
        for line in [&b"Subject: hi"[..], b"", b"..hidden", b"last"] {
            data.push_line(line);
        }
        let record = String::from_utf8(data.finish().unwrap()).unwrap();
        assert_eq!(
            record,
            "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nRCPT TO:<c@example.com>\n\
             DATA\nSubject: hi\n\n.hidden\nlast\n\n"
        );
    }

    #[test]
    fn a_message_over_the_limit_is_refused_and_not_kept() {
        let mut data = Data::new(&Transaction::default());
        let line = vec![b'x'; 998];
        for _ in 0..=MAX_MESSAGE_SIZE / 1000 {
            data.push_line(&line);
        }
        assert!(data.record.len() <= MAX_MESSAGE_SIZE + 100);
        assert_eq!(data.finish(), Err(Refusal::TooLarge));
    }

    #[test]
    fn a_too_long_line_refuses_the_message() {
        let mut data = Data::new(&Transaction::default());
        data.push_line(b"fine");
        data.push_too_long();
        assert_eq!(data.finish(), Err(Refusal::LineTooLong));
    }
}
