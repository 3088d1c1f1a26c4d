//! The harness as a POP3 server that a submitted `pop3-fetch` reads mail from.
//!
//! POP3 (RFC 1939) in its three states:
//!
//! - AUTHORIZATION: `CAPA` (RFC 2449: `USER`, `TOP`, `UIDL`, `RESP-CODES`, and `STLS`
//!   when offered), `STLS` (RFC 2595 §4), `USER` then `PASS` (§7), `QUIT`;
//! - TRANSACTION: `STAT`, `LIST [n]`, `UIDL [n]`, `RETR n`, `TOP n k`, `DELE n`, `RSET`,
//!   `NOOP`, `QUIT` (§5, §7);
//! - UPDATE: after `QUIT` in TRANSACTION, the messages marked by `DELE` are removed.
//!
//! A wrong password is `-ERR [AUTH]` (RFC 3206), a message that does not exist (or is
//! marked deleted) `-ERR`, an unknown command `-ERR`. Multi-line answers end with a line
//! holding `.`; a line of the message that starts with `.` is sent with one more `.` in
//! front (byte-stuffing, §3): a reader must take it off.
//!
//! ```text
//! S: +OK harness POP3 peer ready
//! C: CAPA
//! S: +OK Capability list follows
//! S: USER
//! S: STLS
//! S: .
//! C: STLS
//! S: +OK Begin TLS negotiation now.
//!    (TLS handshake; what follows is encrypted)
//! C: USER alice
//! S: +OK
//! C: PASS s3cret
//! S: +OK Logged in.
//! C: RETR 1
//! S: +OK 312 octets
//! S: From: bob@example.com
//! S: ...
//! S: ..A line that starts with a dot.
//! S: .
//! C: QUIT
//! S: +OK Logging out.
//! ```

use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};

use super::Pop3Script;
use super::command::{Pop3Number, Pop3Request};
use super::record::{Pop3Command, Pop3Session, Pop3Sessions};
use crate::peers::Conversation;
use crate::protocols::accounts::is_the_account;
use crate::protocols::mailstore::{
    Certificate, MailTls, MailWire, SeededMessage, open_session, split_message,
};
use crate::protocols::starttls::{Ending, StartTlsDialogue, converse};

/// The peer's maildrop: the messages not yet removed by a `QUIT`, in order.
pub(super) type Pop3Maildrop = Arc<Mutex<Vec<&'static SeededMessage>>>;

/// Serves one client connection until it quits or closes.
pub(super) async fn serve(
    conversation: Conversation,
    script: Pop3Script,
    sessions: Pop3Sessions,
    maildrop: Pop3Maildrop,
) {
    let Conversation {
        label,
        reader,
        writer,
        transcript,
        received,
        tls_from_first_byte,
        ..
    } = conversation;
    let (index, clear) = open_session(&sessions, |session: &mut Pop3Session| &mut session.in_clear);
    let mut dialogue = Dialogue {
        script: &script,
        wire: MailWire {
            label: &label,
            transcript: &transcript,
            received: &received,
            encrypted: false,
            pending: Vec::new(),
            clear: &clear,
        },
        sessions: &sessions,
        index,
        maildrop: &maildrop,
        user: None,
        transaction: None,
    };
    let tls_first = tls_from_first_byte || script.tls == MailTls::Implicit;
    let ended = converse(&mut dialogue, tokio::io::join(reader, writer), tls_first).await;
    dialogue.session(|session| session.ended = true);
    crate::peers::record_ending(&transcript, &label, &ended);
}

/// The maildrop as the TRANSACTION state sees it: the messages when the login took it,
/// and which of them `DELE` marked.
struct Transaction {
    messages: Vec<&'static SeededMessage>,
    deleted: Vec<bool>,
}

impl Transaction {
    /// The message a command's `number` names, with that number, or the `-ERR` reply
    /// (`verb` names the command).
    fn message(
        &self,
        verb: &str,
        number: Option<Pop3Number>,
    ) -> Result<(usize, &'static SeededMessage), String> {
        let Some(Pop3Number::Given(number)) = number else {
            return Err(format!("-ERR {verb} takes a message number\r\n"));
        };
        if number == 0 || number > self.messages.len() {
            return Err(format!("-ERR There's no message {number}.\r\n"));
        }
        if self.deleted[number - 1] {
            return Err(format!("-ERR Message {number} is deleted.\r\n"));
        }
        Ok((number, self.messages[number - 1]))
    }

    /// The messages not marked deleted, with their numbers.
    fn live(&self) -> Vec<(usize, &'static SeededMessage)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.deleted[*index])
            .map(|(index, message)| (index + 1, *message))
            .collect()
    }
}

impl StartTlsDialogue for Dialogue<'_> {
    fn certificate(&self) -> Certificate {
        self.script.certificate
    }

    fn tls_established(&mut self) {
        self.wire.tls_established();
    }

    fn tls_begun(&mut self) {
        self.session(|session| session.began_tls = true);
    }

    fn tls_failed(&self, error: &io::Error) {
        self.wire.tls_failed(error);
        self.session(|session| session.tls_error = Some(error.to_string()));
    }

    async fn greet<S: AsyncWrite + Unpin + Send>(&mut self, stream: &mut S) -> io::Result<()> {
        self.wire
            .send(stream, b"+OK harness POP3 peer ready\r\n")
            .await
    }

    async fn run<S: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Ending> {
        self.commands(stream).await
    }
}

/// Everything a connection's dialogue uses.
struct Dialogue<'a> {
    script: &'a Pop3Script,
    wire: MailWire<'a>,
    sessions: &'a Pop3Sessions,
    index: usize,
    maildrop: &'a Pop3Maildrop,
    /// The name `USER` gave.
    user: Option<String>,
    /// Logged in: the TRANSACTION state.
    transaction: Option<Transaction>,
}

impl Dialogue<'_> {
    fn session(&self, change: impl FnOnce(&mut Pop3Session)) {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut all[self.index]);
    }

    /// The commands on one stream, until QUIT, the close, or STLS.
    async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Ending> {
        while let Some(raw) = self.wire.line(stream).await? {
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            let command = Pop3Request::parse(&line);
            let encrypted = self.wire.encrypted;
            self.session(|session| {
                session.commands.push(Pop3Command {
                    verb: command.verb().to_owned(),
                    line: line.clone(),
                    encrypted,
                })
            });
            let reply = match self.answer(command) {
                Answer::Reply(reply) => reply,
                Answer::StartTls(reply) => {
                    self.wire.send(stream, reply.as_bytes()).await?;
                    return Ok(Ending::StartTls);
                }
                Answer::Quit(reply) => {
                    self.wire.send(stream, reply.as_bytes()).await?;
                    return Ok(Ending::Over);
                }
            };
            self.wire.send(stream, &reply).await?;
        }
        Ok(Ending::Over)
    }

    /// The answer to one command.
    fn answer(&mut self, command: Pop3Request) -> Answer {
        if self.transaction.is_none() {
            self.authorization(command)
        } else {
            self.in_transaction(command)
        }
    }

    /// The answer to a command before the login (AUTHORIZATION, RFC 1939 §4).
    fn authorization(&mut self, command: Pop3Request) -> Answer {
        match command {
            Pop3Request::Capa => reply(&self.capabilities()),
            Pop3Request::Noop => reply("+OK\r\n"),
            Pop3Request::Stls if self.script.tls == MailTls::Starttls && !self.wire.encrypted => {
                self.user = None;
                Answer::StartTls("+OK Begin TLS negotiation now.\r\n".into())
            }
            Pop3Request::Stls => reply("-ERR STLS is not offered here\r\n"),
            Pop3Request::User(name) if name.is_empty() => reply("-ERR USER takes a name\r\n"),
            Pop3Request::User(name) => {
                self.user = Some(name);
                reply("+OK\r\n")
            }
            Pop3Request::Pass(password) => {
                let Some(user) = self.user.take() else {
                    return reply("-ERR USER first\r\n");
                };
                let accepted =
                    is_the_account(&user, &password, &self.script.user, &self.script.password);
                let encrypted = self.wire.encrypted;
                self.session(|session| session.logins.push((user, accepted, encrypted)));
                if !accepted {
                    return reply("-ERR [AUTH] Authentication failed.\r\n");
                }
                let messages = self
                    .maildrop
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                self.transaction = Some(Transaction {
                    deleted: vec![false; messages.len()],
                    messages,
                });
                reply("+OK Logged in.\r\n")
            }
            Pop3Request::Quit => {
                self.session(|session| session.quit = true);
                Answer::Quit("+OK Logging out.\r\n".into())
            }
            Pop3Request::Apop | Pop3Request::Auth => reply("-ERR use USER and PASS\r\n"),
            Pop3Request::Stat
            | Pop3Request::List(_)
            | Pop3Request::Uidl(_)
            | Pop3Request::Retr(_)
            | Pop3Request::Top(..)
            | Pop3Request::Dele(_)
            | Pop3Request::Rset => reply("-ERR log in first\r\n"),
            Pop3Request::Unknown(verb) => reply(&format!("-ERR Unknown command: {verb}\r\n")),
        }
    }

    /// The answer to a command once logged in (TRANSACTION, RFC 1939 §5), and QUIT's
    /// UPDATE (§6).
    fn in_transaction(&mut self, command: Pop3Request) -> Answer {
        let Some(transaction) = self.transaction.as_mut() else {
            return reply("-ERR log in first\r\n");
        };
        let verb = command.verb().to_owned();
        match command {
            Pop3Request::Capa => reply(&self.capabilities()),
            Pop3Request::Noop => reply("+OK\r\n"),
            Pop3Request::Stat => {
                let live = transaction.live();
                let size: usize = live.iter().map(|(_, message)| message.raw.len()).sum();
                reply(&format!("+OK {} {size}\r\n", live.len()))
            }
            Pop3Request::List(number) | Pop3Request::Uidl(number) => {
                let show = |number: usize, message: &SeededMessage| {
                    if verb == "LIST" {
                        format!("{number} {}", message.raw.len())
                    } else {
                        format!("{number} lab-{}", message.uid)
                    }
                };
                if number.is_some() {
                    return match transaction.message(&verb, number) {
                        Ok((number, message)) => {
                            reply(&format!("+OK {}\r\n", show(number, message)))
                        }
                        Err(error) => reply(&error),
                    };
                }
                let live = transaction.live();
                let mut text = format!("+OK {} messages\r\n", live.len());
                for (number, message) in live {
                    text += &show(number, message);
                    text += "\r\n";
                }
                text += ".\r\n";
                reply(&text)
            }
            Pop3Request::Retr(number) => match transaction.message(&verb, number) {
                Ok((_, message)) => {
                    let mut out = format!("+OK {} octets\r\n", message.raw.len()).into_bytes();
                    out.extend(stuffed(&message.raw));
                    Answer::Reply(out)
                }
                Err(error) => reply(&error),
            },
            Pop3Request::Top(number, lines) => {
                let Some(Pop3Number::Given(lines)) = lines else {
                    return reply("-ERR TOP takes a message number and a line count\r\n");
                };
                match transaction.message(&verb, number) {
                    Ok((_, message)) => {
                        let (header, body) = split_message(&message.raw);
                        let mut top = header.to_vec();
                        for line in body.split_inclusive(|&byte| byte == b'\n').take(lines) {
                            top.extend_from_slice(line);
                        }
                        let mut out = b"+OK\r\n".to_vec();
                        out.extend(stuffed(&top));
                        Answer::Reply(out)
                    }
                    Err(error) => reply(&error),
                }
            }
            Pop3Request::Dele(number) => match transaction.message(&verb, number) {
                Ok((number, _)) => {
                    transaction.deleted[number - 1] = true;
                    self.session(|session| session.deleted.push(number as u32));
                    reply(&format!("+OK Message {number} marked to be deleted.\r\n"))
                }
                Err(error) => reply(&error),
            },
            Pop3Request::Rset => {
                transaction
                    .deleted
                    .iter_mut()
                    .for_each(|deleted| *deleted = false);
                reply("+OK\r\n")
            }
            Pop3Request::Quit => {
                // UPDATE (§6): the marked messages go.
                let removed: Vec<u32> = transaction
                    .messages
                    .iter()
                    .zip(&transaction.deleted)
                    .filter(|(_, deleted)| **deleted)
                    .map(|(message, _)| message.uid)
                    .collect();
                self.maildrop
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .retain(|message| !removed.contains(&message.uid));
                self.session(|session| {
                    session.quit = true;
                    session.removed = removed;
                });
                Answer::Quit("+OK Logging out.\r\n".into())
            }
            Pop3Request::User(_)
            | Pop3Request::Pass(_)
            | Pop3Request::Stls
            | Pop3Request::Apop
            | Pop3Request::Auth => reply("-ERR already logged in\r\n"),
            Pop3Request::Unknown(verb) => reply(&format!("-ERR Unknown command: {verb}\r\n")),
        }
    }

    /// The `CAPA` answer (RFC 2449 §5).
    fn capabilities(&self) -> String {
        let mut text =
            "+OK Capability list follows\r\nUSER\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n".to_owned();
        if self.script.tls == MailTls::Starttls
            && !self.wire.encrypted
            && self.transaction.is_none()
        {
            text += "STLS\r\n";
        }
        text + "IMPLEMENTATION harness\r\n.\r\n"
    }
}

/// A one-part reply.
fn reply(text: &str) -> Answer {
    Answer::Reply(text.as_bytes().to_vec())
}

/// What a command gets.
enum Answer {
    Reply(Vec<u8>),
    /// The reply, then the TLS handshake.
    StartTls(String),
    /// The reply, then the close.
    Quit(String),
}

/// A message as a multi-line answer: each line starting with `.` gets another in front
/// (RFC 1939 §3), a last line without CRLF gets one, then the line `.`.
fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive(|&byte| byte == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}
