//! The SMTP dialogue, command by command, over any stream: plain TCP or TLS.
//!
//! Every command is one line ending in CRLF (RFC 5321 §2.3.8), and every command gets one
//! reply whose code is checked (SPEC `smtp/1`): the code the dialogue expects goes on,
//! anything else ends it as a [`Failure`] (SPEC `smtp/5`). Every wait is bounded by
//! [`REPLY_TIMEOUT`].
//!
//! [`Session`] is generic over the stream, so the very same code runs before STARTTLS (on
//! the TCP stream) and after it (on the TLS stream wrapping that TCP stream).

use std::fmt;
use std::io;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::dot_stuffing::DotStuffer;
use super::message::Formatted;
use super::reply::{Received, Reply, read_reply};
use crate::BUFFER_SIZE;
use crate::lines::LineReader;
use crate::net::Network;

/// How long the client waits for each reply, and for each write to be taken.
///
/// RFC 5321 §4.5.3.2 suggests minutes (5 for most commands, 10 after the final `.`), for
/// servers across the Internet under load. A lab client that tells its user within 30 s
/// is more useful, and never hangs forever.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the client gives QUIT after a failure: a courtesy, not worth waiting for.
pub const QUIT_TIMEOUT: Duration = Duration::from_secs(5);

/// The name the client gives in EHLO (RFC 5321 §4.1.1.1: its fully-qualified domain
/// name). The lab client does not know it (the network abstraction does not say); a real
/// client would look it up, or send its address as a literal (`[192.0.2.1]`).
pub const CLIENT_NAME: &str = "localhost";

/// Why the mail was not sent. The dialogue's expected failures, each with what the user
/// needs to know (SPEC `smtp/5`: "a message on stderr naming the command and the server's
/// reply").
#[derive(Debug)]
pub enum Failure {
    /// The server answered `command` with `reply`: a 4xx or 5xx, or a code the dialogue
    /// does not expect there.
    Rejected {
        /// The command, as the message names it.
        command: String,
        /// The server's reply.
        reply: Reply,
    },
    /// The server's answer to `command` is not an SMTP reply.
    Malformed {
        /// The command, as the message names it.
        command: String,
        /// What is wrong with the answer.
        why: String,
    },
    /// The server closed the connection while the client waited for the reply to
    /// `command`.
    Closed {
        /// The command, as the message names it.
        command: String,
    },
    /// No reply to `command` (or no room to send it) within [`REPLY_TIMEOUT`].
    TimedOut {
        /// The command, as the message names it.
        command: String,
    },
    /// The connection failed (a reset) during `command`.
    Broken {
        /// The command, as the message names it.
        command: String,
        /// What the connection said.
        error: io::Error,
    },
    /// `--starttls`, but the server's EHLO reply does not offer STARTTLS: the client will
    /// not send the message, or a password, in clear text.
    NoStartTls,
    /// The server sent bytes after its 220 to STARTTLS and before the TLS handshake.
    /// They were sent in clear text, so anyone on the path may have put them there
    /// (RFC 3207 §6, "STARTTLS command injection"): the client stops.
    ClearTextAfterStartTls,
    /// The TLS handshake failed (the certificate is not trusted or does not name the
    /// server, or the server does not speak TLS).
    Handshake {
        /// What the handshake said.
        error: io::Error,
    },
    /// The server offers AUTH, but not the PLAIN mechanism (RFC 4954 §3) this client
    /// speaks; it offers `offered`.
    NoAuthPlain {
        /// The mechanisms the server offers, as its AUTH line lists them.
        offered: String,
    },
    /// The message could not be read (its file) in the middle of DATA: the server got
    /// part of it, and no final `.`, so it keeps nothing.
    Unreadable {
        /// What reading the file said.
        error: io::Error,
    },
}

/// A message to send after DATA, read a buffer at a time.
#[derive(Debug)]
pub struct MessageSource<R> {
    /// Its size in bytes, for `SIZE=` (RFC 1870).
    pub size: u64,
    /// It holds 8-bit text: `BODY=8BITMIME` (RFC 6152).
    pub eight_bit: bool,
    /// Its bytes: header fields, an empty line, the body; lines ending in CRLF.
    pub bytes: R,
}

impl Failure {
    /// Whether the connection can still carry a QUIT (SPEC `smtp/5`: "ends the dialogue
    /// with QUIT where possible"): only after a reply, when the dialogue is in step.
    fn can_quit(&self) -> bool {
        matches!(
            self,
            Failure::Rejected { .. } | Failure::NoStartTls | Failure::NoAuthPlain { .. }
        )
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Rejected { command, reply } => {
                write!(f, "{command}: the server answered \"{reply}\"")
            }
            Failure::Malformed { command, why } => {
                write!(
                    f,
                    "{command}: the server's answer is not an SMTP reply: {why}"
                )
            }
            Failure::Closed { command } => write!(
                f,
                "{command}: the server closed the connection before replying"
            ),
            Failure::TimedOut { command } => write!(
                f,
                "{command}: no reply within {} s",
                REPLY_TIMEOUT.as_secs()
            ),
            Failure::Broken { command, error } => write!(f, "{command}: {error}"),
            Failure::NoStartTls => write!(
                f,
                "EHLO: the server does not offer STARTTLS; not sending in clear text"
            ),
            Failure::ClearTextAfterStartTls => write!(
                f,
                "STARTTLS: the server sent data before the TLS handshake (RFC 3207 §6: \
                 it could have been injected); stopping"
            ),
            Failure::Handshake { error } => write!(f, "STARTTLS: TLS handshake failed: {error}"),
            Failure::NoAuthPlain { offered } => write!(
                f,
                "AUTH: the server offers \"{offered}\", not PLAIN; not logging in"
            ),
            Failure::Unreadable { error } => {
                write!(f, "DATA: the message could not be read: {error}")
            }
        }
    }
}

/// What the server's EHLO reply announced (RFC 5321 §4.1.1.1: one extension per line
/// after the first, a keyword and its parameters).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `STARTTLS` (RFC 3207).
    pub starttls: bool,
    /// `8BITMIME` (RFC 6152): message bytes over 127 are taken.
    pub eight_bit_mime: bool,
    /// `SIZE` (RFC 1870): the `SIZE=` parameter of MAIL FROM is understood.
    pub size: bool,
    /// `AUTH mechanism...` (RFC 4954): the mechanisms, as the server wrote them.
    pub auth: Option<Vec<String>>,
}

impl Extensions {
    /// Reads the extensions from an EHLO reply (keywords are case-insensitive).
    ///
    /// ```text
    /// 250-mail.example.com     <- the server's name, not an extension
    /// 250-STARTTLS             -> starttls
    /// 250-AUTH PLAIN LOGIN     -> auth: ["PLAIN", "LOGIN"]
    /// 250 8BITMIME             -> eight_bit_mime
    /// ```
    pub fn from_ehlo(reply: &Reply) -> Extensions {
        let mut extensions = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => extensions.starttls = true,
                "8BITMIME" => extensions.eight_bit_mime = true,
                "SIZE" => extensions.size = true,
                "AUTH" => extensions.auth = Some(words.map(str::to_owned).collect()),
                _ => {}
            }
        }
        extensions
    }
}

/// Whether the client logged in.
#[derive(Debug, PartialEq, Eq)]
pub enum Authentication {
    /// AUTH PLAIN was accepted (235).
    Done,
    /// The server does not offer AUTH: the mail is sent without logging in.
    NotOffered,
}

/// Who the message is from and to, as MAIL FROM and RCPT TO say it (the envelope, RFC
/// 5321 §2.3.1): bare addresses, without display names.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// MAIL FROM's address.
    pub from: String,
    /// RCPT TO's addresses, one command each.
    pub to: Vec<String>,
}

/// An SMTP connection: the stream, read through a line reader.
pub struct Session<S, N> {
    connection: LineReader<S>,
    net: N,
}

impl<S, N> Session<S, N>
where
    S: AsyncRead + AsyncWrite + Unpin,
    N: Network,
{
    /// A session over `stream`, just connected (or just secured).
    pub fn new(stream: S, net: N) -> Session<S, N> {
        Session {
            connection: LineReader::new(stream),
            net,
        }
    }

    /// Waits for the server's greeting (RFC 5321 §3.1: 220; a 554 there means "go away").
    pub async fn greeting(&mut self) -> Result<(), Failure> {
        self.expect("greeting", 220).await.map(drop)
    }

    /// `EHLO`, or `HELO` if the server does not know EHLO (RFC 5321 §3.2: a 5xx to EHLO
    /// means an old server); returns the extensions the server announced (none after HELO).
    pub async fn hello(&mut self) -> Result<Extensions, Failure> {
        let ehlo = format!("EHLO {CLIENT_NAME}");
        self.write_line(&ehlo, &ehlo).await?;
        let reply = self.reply(&ehlo).await?;
        match reply.code {
            250 => Ok(Extensions::from_ehlo(&reply)),
            500..=599 => {
                let helo = format!("HELO {CLIENT_NAME}");
                self.command(&helo, &helo, 250).await?;
                Ok(Extensions::default())
            }
            _ => Err(Failure::Rejected {
                command: ehlo,
                reply,
            }),
        }
    }

    /// `EHLO` again, after TLS started (RFC 3207 §4.2: the client must forget what it
    /// learned before, the server may offer more now, AUTH typically).
    pub async fn hello_again(&mut self) -> Result<Extensions, Failure> {
        let ehlo = format!("EHLO {CLIENT_NAME}");
        let reply = self.command(&ehlo, &ehlo, 250).await?;
        Ok(Extensions::from_ehlo(&reply))
    }

    /// `STARTTLS` (RFC 3207 §4): expects 220, then gives back the stream for the TLS
    /// handshake. Nothing may have come after the 220 (RFC 3207 §6).
    pub async fn start_tls(&mut self) -> Result<(), Failure> {
        self.command("STARTTLS", "STARTTLS", 220).await?;
        if !self.connection.buffered().is_empty() {
            return Err(Failure::ClearTextAfterStartTls);
        }
        Ok(())
    }

    /// The stream, for the TLS handshake after [`Session::start_tls`].
    pub fn into_stream(self) -> S {
        self.connection.into_inner()
    }

    /// `AUTH PLAIN` (RFC 4954 §4, RFC 4616) with the credentials as its initial response,
    /// if the server offers AUTH; expects 235.
    ///
    /// ```text
    /// C: AUTH PLAIN AHVzZXIAc2VjcmV0      base64 of "\0user\0secret"
    /// S: 235 Authentication succeeded
    /// ```
    ///
    /// Base64 is an encoding, not encryption: anyone who sees the line has the password.
    /// That is why it is sent only over TLS (SPEC `smtp/4`; the caller sees to it).
    pub async fn authenticate(
        &mut self,
        extensions: &Extensions,
        user: &str,
        password: &str,
    ) -> Result<Authentication, Failure> {
        let Some(mechanisms) = &extensions.auth else {
            return Ok(Authentication::NotOffered);
        };
        if !mechanisms.iter().any(|m| m.eq_ignore_ascii_case("PLAIN")) {
            let offered = mechanisms.join(" ");
            return Err(Failure::NoAuthPlain { offered });
        }
        // RFC 4616 §2: authorization identity (empty: the same), NUL, user, NUL, password.
        let credentials = BASE64.encode(format!("\0{user}\0{password}"));
        // The password is never shown: the command is named without it.
        self.command(&format!("AUTH PLAIN {credentials}"), "AUTH PLAIN", 235)
            .await?;
        Ok(Authentication::Done)
    }

    /// One mail transaction (RFC 5321 §3.3): MAIL FROM, RCPT TO for each recipient, DATA,
    /// the message, and the final `.`.
    ///
    /// ```text
    /// C: MAIL FROM:<a@example.com> BODY=8BITMIME SIZE=1234    S: 250
    /// C: RCPT TO:<b@example.com>                              S: 250
    /// C: RCPT TO:<c@example.com>                              S: 250
    /// C: DATA                                                 S: 354
    /// C: (the message, dot-stuffed, CRLF)
    /// C: .                                                    S: 250
    /// ```
    pub async fn send_mail(
        &mut self,
        extensions: &Extensions,
        envelope: &Envelope,
        message: &Formatted,
    ) -> Result<(), Failure> {
        let source = MessageSource {
            size: message.bytes.len() as u64,
            eight_bit: message.eight_bit,
            bytes: message.bytes.as_slice(),
        };
        self.send_mail_from(extensions, envelope, source).await
    }

    /// [`Session::send_mail`] for a message read a buffer at a time (a file of any size:
    /// `mail-archive`'s 10 MB attachment never sits in memory).
    pub async fn send_mail_from<R: AsyncRead + Unpin>(
        &mut self,
        extensions: &Extensions,
        envelope: &Envelope,
        message: MessageSource<R>,
    ) -> Result<(), Failure> {
        let mut mail = format!("MAIL FROM:<{}>", envelope.from);
        if message.eight_bit {
            // RFC 6152 §3: 8-bit data is announced.
            mail.push_str(" BODY=8BITMIME");
        }
        if extensions.size {
            // RFC 1870 §3: the size lets the server refuse a message too large now, not
            // after the whole of it was sent.
            mail.push_str(&format!(" SIZE={}", message.size));
        }
        self.command(&mail, &mail, 250).await?;
        for recipient in &envelope.to {
            let rcpt = format!("RCPT TO:<{recipient}>");
            self.command(&rcpt, &rcpt, 250).await?;
        }
        self.command("DATA", "DATA", 354).await?;
        self.write_data(message.bytes).await?;
        self.expect("end of data (.)", 250).await.map(drop)
    }

    /// `QUIT` (RFC 5321 §4.1.1.10): expects 221, then closes (for TLS, with close_notify).
    pub async fn quit(&mut self) -> Result<(), Failure> {
        self.command("QUIT", "QUIT", 221).await?;
        let _ = self.connection.get_mut().shutdown().await;
        Ok(())
    }

    /// After `failure`, ends the dialogue with QUIT if the connection can still take it,
    /// within [`QUIT_TIMEOUT`]; whatever happens then, the failure is what counts.
    pub async fn quit_after(&mut self, failure: &Failure) {
        if !failure.can_quit() {
            return;
        }
        let connection = &mut self.connection;
        let quit = async {
            connection.get_mut().write_all(b"QUIT\r\n").await?;
            connection.get_mut().flush().await?;
            read_reply(connection).await
        };
        tokio::select! {
            biased;
            () = self.net.sleep(QUIT_TIMEOUT) => {}
            _ = quit => {}
        }
    }

    /// Sends the message after 354: CRLF line ends and dot-stuffing (SPEC `smtp/2`), a
    /// buffer at a time, then `.` CRLF.
    async fn write_data<R: AsyncRead + Unpin>(&mut self, mut message: R) -> Result<(), Failure> {
        let mut stuffer = DotStuffer::new();
        // Each piece of BUFFER_SIZE / 2 bytes makes at most BUFFER_SIZE bytes on the wire.
        let mut piece = vec![0u8; BUFFER_SIZE / 2];
        let mut wire = Vec::with_capacity(BUFFER_SIZE);
        loop {
            let read = message
                .read(&mut piece)
                .await
                .map_err(|error| Failure::Unreadable { error })?;
            if read == 0 {
                break;
            }
            wire.clear();
            stuffer.push(&piece[..read], &mut wire);
            self.write(&wire, "DATA (the message)").await?;
        }
        wire.clear();
        stuffer.finish(&mut wire);
        self.write(&wire, "DATA (the final .)").await
    }

    /// Sends `line` and expects the reply `expected`. `shown` names the command in a
    /// failure (AUTH's credentials are not shown).
    async fn command(&mut self, line: &str, shown: &str, expected: u16) -> Result<Reply, Failure> {
        self.write_line(line, shown).await?;
        self.expect(shown, expected).await
    }

    /// Reads a reply and checks its code (SPEC `smtp/1`: every reply code is checked).
    async fn expect(&mut self, command: &str, expected: u16) -> Result<Reply, Failure> {
        let reply = self.reply(command).await?;
        if reply.code != expected {
            // SPEC smtp/5: 4xx, 5xx, or a code out of place.
            return Err(Failure::Rejected {
                command: command.to_owned(),
                reply,
            });
        }
        Ok(reply)
    }

    /// One command line: RFC 5321 §2.3.8, it ends in CRLF.
    async fn write_line(&mut self, line: &str, shown: &str) -> Result<(), Failure> {
        self.write(format!("{line}\r\n").as_bytes(), shown).await
    }

    /// Writes all of `bytes` (looping over short writes) within [`REPLY_TIMEOUT`].
    async fn write(&mut self, bytes: &[u8], command: &str) -> Result<(), Failure> {
        let stream = self.connection.get_mut();
        let written = tokio::select! {
            // The deadline first, as everywhere: it wins a tie.
            biased;
            () = self.net.sleep(REPLY_TIMEOUT) => {
                return Err(Failure::TimedOut { command: command.to_owned() });
            }
            written = async {
                stream.write_all(bytes).await?;
                stream.flush().await
            } => written,
        };
        written.map_err(|error| Failure::Broken {
            command: command.to_owned(),
            error,
        })
    }

    /// Waits for the next whole reply within [`REPLY_TIMEOUT`].
    async fn reply(&mut self, command: &str) -> Result<Reply, Failure> {
        let command = command.to_owned();
        let received = tokio::select! {
            biased;
            () = self.net.sleep(REPLY_TIMEOUT) => return Err(Failure::TimedOut { command }),
            received = read_reply(&mut self.connection) => received,
        };
        match received {
            Ok(Received::Reply(reply)) => Ok(reply),
            Ok(Received::Closed) => Err(Failure::Closed { command }),
            Ok(Received::Malformed(why)) => Err(Failure::Malformed { command, why }),
            Err(error) => Err(Failure::Broken { command, error }),
        }
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    fn ehlo(lines: &[&str]) -> Reply {
        Reply {
            code: 250,
            lines: lines.iter().map(|line| line.to_string()).collect(),
        }
    }

    #[test]
    fn extensions_are_read_from_the_lines_after_the_first() {
        let table: [(Reply, Extensions); 4] = [
            (ehlo(&["mail.example"]), Extensions::default()),
            // The first line is the server's name, even if it looks like a keyword.
            (ehlo(&["STARTTLS"]), Extensions::default()),
            (
                ehlo(&["mail.example", "starttls", "8BITMIME", "SIZE 10485760"]),
                Extensions {
                    starttls: true,
                    eight_bit_mime: true,
                    size: true,
                    auth: None,
                },
            ),
            (
                ehlo(&["mail.example", "AUTH PLAIN LOGIN", "PIPELINING"]),
                Extensions {
                    auth: Some(vec!["PLAIN".into(), "LOGIN".into()]),
                    ..Extensions::default()
                },
            ),
        ];
        for (reply, expected) in table {
            assert_eq!(Extensions::from_ehlo(&reply), expected, "{reply}");
        }
    }

    #[test]
    fn a_failure_names_the_command_and_the_reply() {
        let failure = Failure::Rejected {
            command: "RCPT TO:<nobody@example.com>".into(),
            reply: Reply {
                code: 550,
                lines: vec!["5.1.1 no such user".into()],
            },
        };
        assert_eq!(
            failure.to_string(),
            "RCPT TO:<nobody@example.com>: the server answered \"550 5.1.1 no such user\""
        );
    }
}
