//! The harness as a mail server that a submitted `smtp-client` delivers to.
//!
//! It speaks enough SMTP (RFC 5321) for any client: a `220` greeting, `EHLO`/`HELO`,
//! `STARTTLS` (RFC 3207) with the harness's test CA, `AUTH PLAIN` and `AUTH LOGIN`
//! (RFC 4954), `MAIL`, `RCPT`, `DATA` up to the line `.`, `RSET`, `NOOP`, `QUIT`. A scenario
//! can make any command fail with the code it chooses (`replies = { RCPT = 550 }`), or
//! the message once it is whole (`replies = { "." = 552 }`), or the greeting itself
//! (`replies = { greeting = 554 }`: RFC 5321 §3.1, the server then answers `503` to
//! everything but `QUIT`; a `421` greeting closes the connection), to see the client stop.
//! Everything the client sends is recorded as it came: each command with whether it was
//! encrypted and how its line ended, and each message as raw data
//! (still dot-stuffed), for the pack's judges (`super::judge`).
//!
//! After `STARTTLS` the transcript, and the packet capture made from it
//! ([`crate::pcap`]), hold the dialogue as the peer reads and writes it: decrypted. The
//! capture shows plaintext SMTP where the wire carried TLS records.
//!
//! ```toml
//! [[step]]
//! listen = "mta"
//! smtp = { starttls = true, auth = true, replies = { RCPT = 550 } }
//! ```

use std::io;
use std::sync::Arc;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::SmtpScript;
use super::command::SmtpRequest;
use super::record::{MAX_CLEAR, Sessions, SmtpCommand, SmtpSession};
use crate::peers::Conversation;
use crate::transcript::{Direction, Transcript};
use crate::world::capture::Capture;

/// Time between two bytes of a reply sent one by one.
const BYTE_GAP: std::time::Duration = std::time::Duration::from_millis(1);

/// The longest line read (RFC 5321 §4.5.3.1.6 allows 1000; a client's longer line is
/// kept whole up to here, to be shown).
const MAX_LINE: usize = 64 * 1024;
/// The most bytes of one message kept: a mail-archive client mails a 10 MiB folder as
/// base64 (14 MB), and the largest message a scenario sends is smaller; a message past it
/// is read to its end but not kept, and the judges say so.
const MAX_DATA: usize = 32 << 20;
/// The most bytes of messages and command lines the peer keeps from all its connections:
/// two of the largest messages. A client that sends without end (a message after
/// another, or command lines of 64 KiB each) would otherwise fill the harness's memory.
const MAX_KEPT: u64 = 64 << 20;
/// The name the peer gives itself.
const NAME: &str = "harness.socket-lab";
/// The key of `replies` that replaces the `220` greeting (`replies = { greeting = 554 }`).
pub(super) const GREETING: &str = "greeting";

/// Everything a connection's dialogue uses.
struct Dialogue<'a> {
    script: &'a SmtpScript,
    label: &'a str,
    transcript: &'a Transcript,
    received: &'a Capture,
    sessions: &'a Sessions,
    index: usize,
    /// `EHLO`/`HELO` seen (since the last TLS upgrade).
    greeted: bool,
    /// `MAIL` accepted, and how many `RCPT`.
    in_mail: bool,
    recipients: usize,
    /// The stream read is inside TLS.
    encrypted: bool,
    /// The greeting refused the client (`replies = { greeting = 554 }`): only `QUIT` is
    /// taken now.
    turned_away: bool,
}

/// How a dialogue on one stream ended.
enum Ending {
    /// The client quit or closed.
    Over,
    /// The client asked for TLS, and was told to go ahead.
    StartTls,
}

/// Serves one client connection until it quits or closes.
pub(super) async fn serve(conversation: Conversation, script: SmtpScript, sessions: Sessions) {
    let Conversation {
        label,
        reader,
        writer,
        transcript,
        received,
        tls_from_first_byte,
        ..
    } = conversation;
    let ending = converse(
        (reader, writer),
        (&label, tls_from_first_byte),
        script,
        transcript.clone(),
        received,
        sessions,
    )
    .await;
    crate::peers::record_ending(&transcript, &label, &ending);
}

/// The dialogue of [`serve`]; an error if the connection failed. `tls_first`: the client
/// came to the peer's port of TLS from the first byte (SMTPS, 465; RFC 8314): the
/// handshake comes before the greeting.
async fn converse(
    (reader, writer): (
        crate::world::sockets::PeerReader,
        crate::world::sockets::PeerWriter,
    ),
    (label, tls_first): (&str, bool),
    script: SmtpScript,
    transcript: Transcript,
    received: Arc<Capture>,
    sessions: Sessions,
) -> io::Result<()> {
    let index = {
        let mut all = sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.push(SmtpSession::default());
        all.len() - 1
    };
    let mut dialogue = Dialogue {
        script: &script,
        label,
        transcript: &transcript,
        received: &received,
        sessions: &sessions,
        index,
        greeted: false,
        in_mail: false,
        recipients: 0,
        encrypted: false,
        turned_away: false,
    };
    // Reader and writer together again: TLS needs both directions of one stream.
    let mut plain = tokio::io::join(reader, writer);
    if tls_first {
        let Some(acceptor) = dialogue.tls_acceptor() else {
            dialogue.end();
            return Ok(());
        };
        return match acceptor.accept(plain).await {
            Ok(mut encrypted) => {
                transcript.event(
                    label,
                    Direction::FromProgram,
                    "TLS established from the first byte: everything was encrypted on the wire (shown decrypted)",
                );
                let ended = dialogue.greet_and_run(&mut encrypted, true).await;
                let _ = encrypted.shutdown().await;
                dialogue.end();
                ended.map(|_| ())
            }
            Err(error) => {
                dialogue.handshake_failed(&error);
                dialogue.end();
                Ok(())
            }
        };
    }
    match dialogue.greet_and_run(&mut plain, false).await {
        Ok(Ending::StartTls) => {}
        Ok(Ending::Over) => {
            dialogue.end();
            return Ok(());
        }
        Err(error) => {
            dialogue.end();
            return Err(error);
        }
    }
    let Some(acceptor) = dialogue.tls_acceptor() else {
        dialogue.end();
        return Ok(());
    };
    match acceptor.accept(plain).await {
        Ok(mut encrypted) => {
            transcript.event(
                label,
                Direction::FromProgram,
                "TLS established: what follows was encrypted on the wire (shown decrypted)",
            );
            // RFC 3207 §4.2: after TLS the client starts over with EHLO.
            dialogue.greeted = false;
            dialogue.in_mail = false;
            dialogue.recipients = 0;
            let ended = dialogue.run(&mut encrypted, true).await;
            let _ = encrypted.shutdown().await;
            dialogue.end();
            return ended.map(|_| ());
        }
        Err(error) => dialogue.handshake_failed(&error),
    }
    dialogue.end();
    Ok(())
}

impl Dialogue<'_> {
    /// The greeting (or the scenario's refusal), then the commands, on a stream read in
    /// clear or, with `encrypted`, inside TLS.
    async fn greet_and_run<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        encrypted: bool,
    ) -> io::Result<Ending> {
        let greeting = match self.script.replies.get(GREETING) {
            Some(code) => {
                self.turned_away = true;
                format!("{code} {NAME} no service for you, refused on purpose by the scenario\r\n")
            }
            None => format!("220 {NAME} ESMTP the harness's mail server peer\r\n"),
        };
        self.reply(stream, &greeting).await?;
        // RFC 5321 §3.8: `421` is said as the server closes the connection.
        if self.script.replies.get(GREETING) == Some(&421) {
            return Ok(Ending::Over);
        }
        self.run(stream, encrypted).await
    }

    /// The TLS handshake failed: said in the transcript and kept in the session.
    fn handshake_failed(&self, error: &io::Error) {
        self.transcript.event(
            self.label,
            Direction::FromProgram,
            format!("TLS handshake failed: {error}"),
        );
        self.session(|session| session.tls_error = Some(error.to_string()));
    }

    /// The test CA's acceptor, or `None` (the failure recorded) when there is none.
    fn tls_acceptor(&self) -> Option<tokio_rustls::TlsAcceptor> {
        match crate::tls::test_ca() {
            Ok(ca) => Some(tokio_rustls::TlsAcceptor::from(Arc::clone(
                &ca.server_config,
            ))),
            Err(error) => {
                self.session(|session| {
                    session.tls_error = Some(error.to_string());
                    session.certificate_trouble =
                        Some(format!("the mail server peer has no certificate: {error}"));
                });
                None
            }
        }
    }

    fn session(&self, change: impl FnOnce(&mut SmtpSession)) {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut all[self.index]);
    }

    fn end(&self) {
        self.session(|session| session.ended = true);
    }

    /// Counts `bytes` more against [`MAX_KEPT`], across every connection of the peer:
    /// `Err` when they pass it (the first time, said in the session's `past_bound`), and
    /// then they are not kept.
    fn keep(&self, bytes: u64) -> Result<(), ()> {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let kept: u64 = all.iter().map(|session| session.kept).sum();
        let session = &mut all[self.index];
        if kept + bytes > MAX_KEPT {
            session.past_bound.get_or_insert_with(|| {
                format!(
                    "the client's commands and mail came to more than {} ({} bytes kept, then {bytes} more), past the harness's bound on what its mail server keeps: the rest was not kept",
                    sandbox::size_text(MAX_KEPT),
                    kept
                )
            });
            return Err(());
        }
        session.kept += bytes;
        Ok(())
    }

    async fn reply<S: AsyncWrite + Unpin>(&self, stream: &mut S, text: &str) -> io::Result<()> {
        // Byte by byte, with pauses: under way until the last byte leaves.
        let _held = self.transcript.pending().hold();
        if self.script.byte_replies {
            // The accepted socket has TCP_NODELAY: each byte leaves as its own segment, and
            // is recorded as its own write (the transcript counts them, the capture shows
            // one segment each).
            for byte in text.as_bytes() {
                let byte = std::slice::from_ref(byte);
                stream.write_all(byte).await?;
                stream.flush().await?;
                self.transcript.data(self.label, Direction::ToProgram, byte);
                tokio::time::sleep(BYTE_GAP).await;
            }
        } else {
            stream.write_all(text.as_bytes()).await?;
            stream.flush().await?;
            self.transcript
                .data(self.label, Direction::ToProgram, text.as_bytes());
        }
        Ok(())
    }

    /// Reads one line (through its `\n`), or `None` once the client closed.
    /// A last line cut by the close still counts, as cut (it does not end in CRLF).
    async fn line<S: AsyncRead + Unpin>(
        &self,
        stream: &mut S,
        pending: &mut Vec<u8>,
    ) -> io::Result<Option<Vec<u8>>> {
        crate::peers::next_line(stream, pending, MAX_LINE, |piece| {
            if piece.is_empty() {
                self.transcript
                    .fin(self.label, Direction::FromProgram, "closed");
            } else {
                self.transcript
                    .data(self.label, Direction::FromProgram, piece);
                let _ = self.received.append(piece);
                if !self.encrypted {
                    self.session(|session| {
                        let room = MAX_CLEAR.saturating_sub(session.in_clear.len());
                        session
                            .in_clear
                            .extend_from_slice(&piece[..piece.len().min(room)]);
                    });
                }
            }
        })
        .await
    }

    /// The dialogue on one stream (plain, then perhaps encrypted).
    async fn run<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        encrypted: bool,
    ) -> io::Result<Ending> {
        self.encrypted = encrypted;
        // Bytes read but not used yet. RFC 3207 §5: what came after STARTTLS, before the
        // handshake, is discarded (it could have been injected by an attacker).
        let mut pending = Vec::new();
        while let Some(raw) = self.line(stream, &mut pending).await? {
            let crlf = raw.ends_with(b"\r\n");
            let line = String::from_utf8_lossy(raw.strip_suffix(b"\n").unwrap_or(&raw))
                .trim_end_matches('\r')
                .to_owned();
            let command = SmtpRequest::parse(&line);
            let verb = command.verb().to_owned();
            if self.keep(line.len() as u64).is_ok() {
                self.session(|session| {
                    session.commands.push(SmtpCommand {
                        verb: verb.clone(),
                        line: line.clone(),
                        encrypted,
                        crlf,
                    })
                });
            }
            // RFC 5321 §3.1: after a `554` greeting the server waits for `QUIT`,
            // answering `503` to anything else.
            if self.turned_away && verb != "QUIT" {
                self.reply(stream, "503 no service: only QUIT now\r\n")
                    .await?;
                continue;
            }
            if let Some(code) = self.script.replies.get(&verb) {
                let text = format!("{code} {verb} refused on purpose by the scenario\r\n");
                self.reply(stream, &text).await?;
                if verb == "QUIT" {
                    return Ok(Ending::Over);
                }
                continue;
            }
            match command {
                SmtpRequest::Ehlo => {
                    self.greeted = true;
                    let mut text = format!("250-{NAME} greets you\r\n");
                    if self.script.starttls && !encrypted {
                        text += "250-STARTTLS\r\n";
                    }
                    // Real servers offer AUTH only once the password cannot be read on
                    // the way; without STARTTLS on offer, a scenario may tempt a client.
                    if self.script.auth && (encrypted || !self.script.starttls) {
                        text += "250-AUTH PLAIN LOGIN\r\n";
                    }
                    text += "250 8BITMIME\r\n";
                    self.reply(stream, &text).await?;
                }
                SmtpRequest::Helo => {
                    self.greeted = true;
                    self.reply(stream, &format!("250 {NAME}\r\n")).await?;
                }
                SmtpRequest::StartTls if self.script.starttls && !encrypted => {
                    self.reply(stream, "220 go ahead with TLS\r\n").await?;
                    return Ok(Ending::StartTls);
                }
                SmtpRequest::Auth { mechanism, initial } => {
                    self.authenticate(stream, &mechanism, initial, encrypted, &mut pending)
                        .await?
                }
                SmtpRequest::Mail if !self.greeted => {
                    self.reply(stream, "503 say EHLO first\r\n").await?;
                }
                SmtpRequest::Mail => {
                    self.in_mail = true;
                    self.recipients = 0;
                    self.reply(stream, "250 sender ok\r\n").await?;
                }
                SmtpRequest::Rcpt if !self.in_mail => {
                    self.reply(stream, "503 need MAIL first\r\n").await?;
                }
                SmtpRequest::Rcpt => {
                    self.recipients += 1;
                    self.reply(stream, "250 recipient ok\r\n").await?;
                }
                SmtpRequest::Data if self.recipients == 0 => {
                    self.reply(stream, "503 need RCPT first\r\n").await?;
                }
                SmtpRequest::Data => {
                    self.reply(stream, "354 end data with <CRLF>.<CRLF>\r\n")
                        .await?;
                    let Some(data) = self.data(stream, &mut pending).await? else {
                        return Ok(Ending::Over);
                    };
                    self.in_mail = false;
                    self.recipients = 0;
                    // `replies = { "." = 552 }`: the message is refused once it is whole
                    // (too large, or a policy), so it is not delivered.
                    if let Some(code) = self.script.replies.get(".") {
                        let text = format!("{code} message refused on purpose by the scenario\r\n");
                        self.reply(stream, &text).await?;
                        continue;
                    }
                    // A message past a bound is not kept (`past_bound` says why); the
                    // client is answered as ever, and judged on the bound.
                    if let Some(data) = data
                        && self.keep(data.len() as u64).is_ok()
                    {
                        self.session(|session| session.messages.push(data));
                    }
                    self.reply(stream, "250 message accepted\r\n").await?;
                }
                SmtpRequest::Rset => {
                    self.in_mail = false;
                    self.recipients = 0;
                    self.reply(stream, "250 reset\r\n").await?;
                }
                SmtpRequest::Noop => self.reply(stream, "250 ok\r\n").await?,
                SmtpRequest::Quit => {
                    self.reply(stream, &format!("221 {NAME} closing\r\n"))
                        .await?;
                    return Ok(Ending::Over);
                }
                SmtpRequest::StartTls | SmtpRequest::Other(_) => {
                    self.reply(stream, "500 command not recognized\r\n").await?
                }
            }
        }
        Ok(Ending::Over)
    }

    /// `AUTH PLAIN [initial]` or `AUTH LOGIN`: records the user name, accepts any password.
    async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        mechanism: &str,
        initial: Option<String>,
        encrypted: bool,
        pending: &mut Vec<u8>,
    ) -> io::Result<()> {
        let decode = |text: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .unwrap_or_default()
        };
        let user = match mechanism {
            "PLAIN" => {
                let response = match initial {
                    Some(response) => response,
                    None => {
                        self.reply(stream, "334 \r\n").await?;
                        self.continuation(stream, pending).await?
                    }
                };
                // RFC 4616: authzid NUL authcid NUL password.
                let decoded = decode(&response);
                let parts: Vec<&[u8]> = decoded.split(|&byte| byte == 0).collect();
                String::from_utf8_lossy(parts.get(1).copied().unwrap_or_default()).into_owned()
            }
            "LOGIN" => {
                self.reply(stream, "334 VXNlcm5hbWU6\r\n").await?;
                let user = decode(&self.continuation(stream, pending).await?);
                self.reply(stream, "334 UGFzc3dvcmQ6\r\n").await?;
                self.continuation(stream, pending).await?;
                String::from_utf8_lossy(&user).into_owned()
            }
            _ => {
                return self
                    .reply(stream, "504 mechanism not supported (PLAIN, LOGIN)\r\n")
                    .await;
            }
        };
        self.session(|session| session.logins.push((user, encrypted)));
        self.reply(stream, "235 authenticated\r\n").await
    }

    /// A line answering a `334` challenge.
    async fn continuation<S: AsyncRead + Unpin>(
        &self,
        stream: &mut S,
        pending: &mut Vec<u8>,
    ) -> io::Result<String> {
        let line = self.line(stream, pending).await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
    }

    /// The message data, up to the line `.`; `None` if the client closed first. A
    /// message longer than [`MAX_DATA`] is read to its end, not kept (`Some(None)`), and
    /// the session's `past_bound` says by how much.
    async fn data<S: AsyncRead + Unpin>(
        &self,
        stream: &mut S,
        pending: &mut Vec<u8>,
    ) -> io::Result<Option<Option<Vec<u8>>>> {
        let mut data = Vec::new();
        let mut came = 0usize;
        while let Some(line) = self.line(stream, pending).await? {
            // RFC 5321 §4.1.1.4: the data ends with a line holding only a period. A bare
            // LF is accepted here, so that a client that forgets CR is judged on it
            // rather than left hanging.
            if line == b".\r\n" || line == b".\n" {
                if came > MAX_DATA {
                    self.session(|session| {
                        session.past_bound.get_or_insert_with(|| {
                            format!(
                                "a message of {came} bytes, {} past the harness's bound of {} for one message: it was not kept",
                                came - MAX_DATA,
                                sandbox::size_text(MAX_DATA as u64)
                            )
                        });
                    });
                    return Ok(Some(None));
                }
                return Ok(Some(Some(data)));
            }
            came = came.saturating_add(line.len());
            if came <= MAX_DATA {
                data.extend_from_slice(&line);
            } else {
                data = Vec::new();
            }
        }
        Ok(None)
    }
}
