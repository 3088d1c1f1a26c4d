//! # `smtp-server`: a mail server that prints what it receives
//!
//! Reading list: the handout (003, "Mail Server": a server that receives an email from a
//! mail client and prints the dialogue) and its contract, `scenarios/SPEC.md#smtp-server`,
//! clauses `smtpd/1`–`smtpd/2`. For SMTP: RFC 5321 §3.3 (a mail
//! transaction), §4.1 (the commands and their syntax), §4.2 (replies, multi-line replies,
//! the codes), §4.3.2 (which reply to which command), §4.5.2 (dot-stuffing), §4.5.3
//! (limits and timeouts); RFC 2920 (pipelining), RFC 1870 (SIZE), RFC 6152 (8BITMIME).
//!
//! The handout, in short: the server (`smtp-server PORT`) speaks enough SMTP for a real
//! client (Python's `smtplib`, Thunderbird, `swaks`, this crate's `smtp-client`) to
//! deliver a message, and prints each message it accepts on stdout (SPEC `smtpd/2`):
//!
//! ```text
//! MAIL FROM:<a@example.com>
//! RCPT TO:<b@example.com>
//! DATA
//! <each line of the message, dot-unstuffed, ending in "\n">
//! <an empty line>
//! ```
//!
//! The dialogue (every line ends in CRLF on the wire):
//!
//! ```text
//! client                                      server
//!   | ---- connect -------------------------->  |  a new task serves this client
//!   |  <-- 220 localhost ESMTP ready ---------  |
//!   | ---- EHLO client.example -------------->  |
//!   |  <-- 250-localhost ---------------------  |  multi-line: "-" after the code
//!   |  <-- 250-8BITMIME ----------------------  |
//!   |  <-- 250-PIPELINING --------------------  |
//!   |  <-- 250 SIZE 10485760 -----------------  |  last line: " " after the code
//!   | ---- MAIL FROM:<a@example.com> -------->  |
//!   |  <-- 250 OK ----------------------------  |
//!   | ---- RCPT TO:<b@example.com> ---------->  |  once per recipient
//!   |  <-- 250 OK ----------------------------  |
//!   | ---- DATA ----------------------------->  |
//!   |  <-- 354 End data with <CR><LF>.<CR><LF>  |
//!   | ---- Subject: hi ---------------------->  |
//!   | ---- (empty line) --------------------->  |
//!   | ---- ..hidden ------------------------->  |  the client doubled the dot
//!   | ---- . -------------------------------->  |  end of the message
//!   |                                           |  print the record on stdout
//!   |  <-- 250 OK: message accepted ----------  |
//!   | ---- QUIT ----------------------------->  |
//!   |  <-- 221 localhost closing connection --  |  close
//! ```
//!
//! What a first SMTP server usually gets wrong, and this reference does instead:
//!
//! - One `recv(1024)` per command takes whatever has arrived as a command: half of one
//!   when the client types slowly or the network cuts it, two of them when the client
//!   pipelines (RFC 2920). Here a line reader ([`crate::lines`]) hands out one whole line at a
//!   time, however the bytes came, and keeps the rest for the next command.
//! - `if data == "QUIT"` is case-sensitive and fails on `quit\r\n`. Verbs are
//!   case-insensitive (RFC 5321 §2.4), and the line end is CRLF or a bare LF.
//! - Answering 250 to everything: a client that sends `DATA` first, or MAIL twice, must be
//!   told 503 (bad sequence), so that its author finds the bug (RFC 5321 §4.1.4).
//! - Printing the data lines as they come: the `..` of a dot-stuffed line shows up, and
//!   two clients at once mix their lines. Each line is unstuffed (RFC 5321 §4.5.2), and the
//!   record is printed whole once the final `.` came, under a lock (SPEC `smtpd/2`).
//! - Reading the message into an ever-growing string: a client can send gigabytes. Lines
//!   are at most 1000 bytes (RFC 5321 §4.5.3.1.6, else 500), a message at most 10 MiB
//!   (else 552), a transaction 100 recipients (else 452), and a silent client is dropped
//!   after 5 minutes (§4.5.3.2.7, 421).
//! - One client at a time, or a crash when a client resets: each client has its own task,
//!   and whatever it does ends only its own connection.
//!
//! ## Layout
//!
//! - `server`: the accept loop, one task per client, and the dialogue with one client.
//! - [`command`]: one command line to a [`Command`] (a pure function).
//! - [`transaction`]: the envelope, the data, the record printed on stdout.
//!
//! Shared with `smtp_client` (and the IMAP and POP3 clients): the bounded line reader,
//! [`crate::lines`].

pub mod command;
mod server;
pub mod transaction;

pub use command::{Command, MailParameter, parse_command};
pub use server::{
    COMMAND_TIMEOUT, MAX_LINE, Printer, SERVER_NAME, SessionOutcome, serve, serve_one, server_main,
};

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    use super::*;
    use crate::net::Tokio;

    /// Plays `script` against `serve_one` through a pipe that moves `pipe` bytes at a time,
    /// then half-closes; returns every reply, what was printed, and the outcome.
    async fn session(script: &[u8], pipe: usize) -> (String, String, SessionOutcome) {
        let (client_end, server_end) = tokio::io::duplex(pipe);
        let (mut from_server, mut to_server) = tokio::io::split(client_end);
        let (printed_end, mut printed_reader) = tokio::io::duplex(1 << 16);
        let printer: Printer<DuplexStream> = Printer::new(printed_end);
        // Writing and reading at once: a small pipe blocks the server's replies until the
        // client reads them, as a real client would.
        let client = async {
            let send = async {
                to_server.write_all(script).await.unwrap();
                to_server.shutdown().await.unwrap();
            };
            let mut replies = Vec::new();
            let ((), received) = tokio::join!(send, from_server.read_to_end(&mut replies));
            received.unwrap();
            String::from_utf8(replies).unwrap()
        };
        let (replies, outcome) = tokio::join!(client, serve_one(server_end, Tokio, printer));
        // The printer (its end of the pipe) was dropped when serve_one returned.
        let mut printed = Vec::new();
        printed_reader.read_to_end(&mut printed).await.unwrap();
        (replies, String::from_utf8(printed).unwrap(), outcome)
    }

    /// The reply codes in `replies`, one per reply (continuation lines skipped).
    fn codes(replies: &str) -> Vec<&str> {
        replies
            .split("\r\n")
            .filter(|line| line.len() >= 4 && line.as_bytes()[3] == b' ')
            .map(|line| &line[..3])
            .collect()
    }

    const ONE_MESSAGE: &[u8] = b"EHLO client\r\nMAIL FROM:<a@example.com>\r\n\
        RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n\
        Subject: hi\r\n\r\n..hidden\r\nlast line\r\n.\r\nQUIT\r\n";

    const ONE_RECORD: &str = "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\n\
        RCPT TO:<c@example.com>\nDATA\nSubject: hi\n\n.hidden\nlast line\n\n";

    #[tokio::test]
    async fn a_message_is_accepted_and_printed_dot_unstuffed() {
        let (replies, printed, outcome) = session(ONE_MESSAGE, 4096).await;
        assert_eq!(
            codes(&replies),
            ["220", "250", "250", "250", "250", "354", "250", "221"]
        );
        assert!(replies.starts_with("220 localhost ESMTP"), "{replies}");
        assert!(replies.contains("250-8BITMIME\r\n"), "{replies}");
        assert!(replies.contains("250 SIZE 10485760\r\n"), "{replies}");
        assert_eq!(printed, ONE_RECORD);
        assert!(matches!(outcome, SessionOutcome::Quit { messages: 1 }));
    }

    #[tokio::test]
    async fn one_byte_pieces_make_the_same_dialogue() {
        let (replies, printed, _) = session(ONE_MESSAGE, 1).await;
        assert_eq!(
            codes(&replies),
            ["220", "250", "250", "250", "250", "354", "250", "221"]
        );
        assert_eq!(printed, ONE_RECORD);
    }

    #[tokio::test]
    async fn lowercase_commands_and_bare_line_feeds_are_taken() {
        let script = b"helo c\nmail from:<a@x>\nrcpt to:<b@y>\ndata\nbody\n.\nquit\n";
        let (replies, printed, _) = session(script, 4096).await;
        assert_eq!(
            codes(&replies),
            ["220", "250", "250", "250", "354", "250", "221"]
        );
        assert_eq!(printed, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nbody\n\n");
    }

    #[tokio::test]
    async fn every_reply_code_of_the_table() {
        // (command, expected code): each line answered in order.
        let table: [(&str, &str); 22] = [
            ("MAIL FROM:<a@x>", "503"), // before EHLO
            ("EHLO c", "250"),
            ("RCPT TO:<b@y>", "503"), // before MAIL
            ("DATA", "503"),          // before MAIL
            ("MAIL a@x", "501"),      // no FROM:<...>
            ("MAIL FROM:<a@x> NOTIFY=NEVER", "555"),
            ("MAIL FROM:<a@x> SIZE=99999999", "552"),
            ("MAIL FROM:<a@x>", "250"),
            ("MAIL FROM:<a@x>", "503"), // inside a transaction
            ("DATA", "503"),            // no RCPT yet
            ("RCPT TO:<>", "501"),
            ("RCPT TO:<b@y>", "250"),
            ("RSET", "250"),
            ("RCPT TO:<b@y>", "503"), // RSET ended the transaction
            ("NOOP", "250"),
            ("VRFY bob", "252"),
            ("EXPN staff", "502"),
            ("STARTTLS", "502"),
            ("AUTH PLAIN AGFAYg==", "502"),
            ("HELLO", "500"),
            ("HELO c", "250"),
            ("QUIT", "221"),
        ];
        let script: String = table
            .iter()
            .map(|(line, _)| format!("{line}\r\n"))
            .collect();
        let (replies, printed, outcome) = session(script.as_bytes(), 4096).await;
        let expected: Vec<&str> = std::iter::once("220")
            .chain(table.iter().map(|(_, code)| *code))
            .collect();
        assert_eq!(codes(&replies), expected, "{replies}");
        assert_eq!(printed, "");
        assert!(matches!(outcome, SessionOutcome::Quit { messages: 0 }));
    }

    #[tokio::test]
    async fn a_too_long_command_line_is_500_and_the_next_is_read() {
        let mut script = vec![b'N'; 1500];
        script.extend_from_slice(b"\r\nNOOP\r\nQUIT\r\n");
        let (replies, _, _) = session(&script, 4096).await;
        assert_eq!(codes(&replies), ["220", "500", "250", "221"]);
        assert!(replies.contains("500 Line too long\r\n"), "{replies}");
    }

    #[tokio::test]
    async fn two_messages_in_one_session_are_printed_apart() {
        let message = b"MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nbody\r\n.\r\n";
        let script = [&b"EHLO c\r\n"[..], message, message, b"QUIT\r\n"].concat();
        let (_, printed, outcome) = session(&script, 4096).await;
        let record = "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nbody\n\n";
        assert_eq!(printed, format!("{record}{record}"));
        assert!(matches!(outcome, SessionOutcome::Quit { messages: 2 }));
    }

    #[tokio::test]
    async fn a_client_that_leaves_mid_message_prints_nothing() {
        let script = b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nhalf of it\r\n";
        let (replies, printed, outcome) = session(script, 4096).await;
        assert_eq!(codes(&replies), ["220", "250", "250", "250", "354"]);
        assert_eq!(printed, "");
        assert!(matches!(outcome, SessionOutcome::Vanished { messages: 0 }));
    }

    #[tokio::test]
    async fn a_too_long_data_line_refuses_the_message_with_500() {
        let long = vec![b'x'; 2000];
        let script = [
            &b"EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"[..],
            &long,
            b"\r\n.\r\nQUIT\r\n",
        ]
        .concat();
        let (replies, printed, _) = session(&script, 4096).await;
        assert_eq!(
            codes(&replies),
            ["220", "250", "250", "250", "354", "500", "221"]
        );
        assert_eq!(printed, "");
    }
}
