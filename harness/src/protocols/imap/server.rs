//! The harness as an IMAP server that a submitted `imap-read` reads mail from.
//!
//! It speaks enough of IMAP4rev1 (RFC 3501; RFC 9051 keeps these commands) for Python's
//! `imaplib` and curl:
//!
//! - any state: `CAPABILITY`, `NOOP`, `LOGOUT` (§6.1);
//! - not authenticated: `STARTTLS` (§6.2.1, when offered), `LOGIN` (§6.2.3),
//!   `AUTHENTICATE PLAIN` (§6.2.2, RFC 4616; with or without an initial response);
//! - authenticated: `SELECT`, `EXAMINE` (read-only), `LIST`, `LSUB`, `STATUS`, `NAMESPACE`;
//! - selected: `FETCH` and `UID FETCH` (`FLAGS`, `UID`, `RFC822`, `RFC822.HEADER`,
//!   `RFC822.TEXT`, `RFC822.SIZE`, `INTERNALDATE`, `FAST`, `BODY[...]` and `BODY.PEEK[...]`
//!   with the sections `HEADER`, `TEXT`, `HEADER.FIELDS (...)`, `HEADER.FIELDS.NOT (...)`,
//!   part numbers `1`, `2.1`, `1.MIME`, and partial fetches `<start.count>`), `SEARCH` and
//!   `UID SEARCH` (`ALL`, `SEEN`, `UNSEEN`, `DELETED`, `UNDELETED`, `FROM`, `TO`,
//!   `SUBJECT`, sequence sets, `UID` sets), `STORE` and `UID STORE`, `EXPUNGE`, `CLOSE`,
//!   `UNSELECT`, `CHECK`.
//!
//! Not served (`BAD`): `ENVELOPE`, `BODYSTRUCTURE` and `BODY` without a section, `APPEND`,
//! `COPY`, `IDLE`, and every command that changes mailboxes.
//!
//! A message's body fetched without `PEEK` (`BODY[]`, `RFC822`, `RFC822.TEXT`) from a
//! mailbox `SELECT`ed read-write gets `\Seen`, as on a real server (§6.4.5), and the
//! record says so: SPEC read/3 wants a reader to use `EXAMINE` or `BODY.PEEK`.
//!
//! ```text
//! S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] harness IMAP peer ready
//! C: a1 LOGIN alice "s3cret"
//! S: a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN UNSELECT] Logged in
//! C: a2 EXAMINE INBOX
//! S: * 5 EXISTS
//! S: a2 OK [READ-ONLY] EXAMINE completed
//! C: a3 FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])
//! S: * 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] {58}
//! S: From: bob@example.com
//! S: Subject: Lunch on Friday
//! S:
//! S: )
//! S: a3 OK FETCH completed
//! C: a4 LOGOUT
//! S: * BYE logging out
//! S: a4 OK LOGOUT completed
//! ```
//!
//! A literal `{n}` (§4.3) is followed by CRLF and exactly `n` bytes: a reader that reads
//! lines only, or takes one `recv` for one response, breaks here. A client's own literals
//! (`{n}`, answered with `+`, or `{n+}`, RFC 7888) are read the same way.

use std::io;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite};

use super::ImapScript;
use super::fetch_items::{FetchItem, parse_item, section_bytes};
use super::record::{ImapCommand, ImapSession, ImapSessions};
use super::syntax::{Arg, literal_at_end, parse_args, parse_set};
use crate::peers::Conversation;
use crate::protocols::mailstore::{
    Certificate, MailTls, MailWire, SeededMessage, header_value, open_session, split_message,
};
use crate::protocols::starttls::{Ending, StartTlsDialogue, converse};

/// One message of the peer's mailbox, with its flags (shared by every connection).
#[derive(Debug)]
pub(super) struct ImapStored {
    pub(super) message: &'static SeededMessage,
    pub(super) flags: Vec<String>,
}

/// The peer's mailbox: what is left of it, in order.
pub(super) type ImapStore = Arc<Mutex<Vec<ImapStored>>>;

/// The largest literal a client may send.
const MAX_LITERAL: usize = 1 << 20;
/// `UIDVALIDITY` of the one mailbox.
const UID_VALIDITY: u32 = 1;
/// The flags a message can carry.
const FLAGS: &str = r"\Answered \Flagged \Deleted \Seen \Draft";

/// The mailbox selected.
struct Selected {
    read_only: bool,
    /// The UIDs, in message-number order.
    view: Vec<u32>,
}

/// Serves one client connection until it logs out or closes.
pub(super) async fn serve(
    conversation: Conversation,
    script: ImapScript,
    sessions: ImapSessions,
    store: ImapStore,
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
    let (index, clear) = open_session(&sessions, |session: &mut ImapSession| &mut session.in_clear);
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
        store: &store,
        user: None,
        selected: None,
    };
    let tls_first = tls_from_first_byte || script.tls == MailTls::Implicit;
    let ended = converse(&mut dialogue, tokio::io::join(reader, writer), tls_first).await;
    dialogue.session(|session| session.ended = true);
    crate::peers::record_ending(&transcript, &label, &ended);
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
        self.greeting(stream).await
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
    script: &'a ImapScript,
    wire: MailWire<'a>,
    sessions: &'a ImapSessions,
    index: usize,
    store: &'a ImapStore,
    /// The user logged in.
    user: Option<String>,
    selected: Option<Selected>,
}

impl Dialogue<'_> {
    fn session(&self, change: impl FnOnce(&mut ImapSession)) {
        let mut all = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut all[self.index]);
    }

    fn mailbox(&self) -> std::sync::MutexGuard<'_, Vec<ImapStored>> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn greeting<S: AsyncWrite + Unpin>(&self, stream: &mut S) -> io::Result<()> {
        let greeting = format!(
            "* OK [CAPABILITY {}] harness IMAP peer ready\r\n",
            self.capabilities()
        );
        self.wire.send(stream, greeting.as_bytes()).await
    }

    /// What the server can do now (RFC 3501 §7.2.1).
    fn capabilities(&self) -> String {
        let mut text = "IMAP4rev1".to_owned();
        if self.script.tls == MailTls::Starttls && !self.wire.encrypted && self.user.is_none() {
            text += " STARTTLS";
        }
        text += " AUTH=PLAIN UNSELECT NAMESPACE";
        text
    }

    async fn send<S: AsyncWrite + Unpin>(&self, stream: &mut S, text: &str) -> io::Result<()> {
        self.wire.send(stream, text.as_bytes()).await
    }

    /// One command, its literals read in; `None` once the client closed.
    async fn command<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut command = Vec::new();
        loop {
            let Some(line) = self.wire.line(stream).await? else {
                return Ok(None);
            };
            command.extend_from_slice(&line);
            let Some((count, synchronizing)) = literal_at_end(&line) else {
                return Ok(Some(command));
            };
            if count > MAX_LITERAL {
                self.send(stream, "* BYE literal too large\r\n").await?;
                return Ok(None);
            }
            if synchronizing {
                self.send(stream, "+ go ahead\r\n").await?;
            }
            let Some(bytes) = self.wire.exact(stream, count).await? else {
                return Ok(None);
            };
            command.extend_from_slice(&bytes);
        }
    }

    /// The commands on one stream, until LOGOUT, the close, or STARTTLS.
    async fn commands<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Ending> {
        while let Some(raw) = self.command(stream).await? {
            let text = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            let args = parse_args(&raw);
            let tag = args.first().and_then(Arg::text).unwrap_or_default();
            let mut verb = args
                .get(1)
                .and_then(Arg::text)
                .unwrap_or_default()
                .to_ascii_uppercase();
            let mut rest = args.get(2..).unwrap_or_default().to_vec();
            let by_uid = verb == "UID";
            if by_uid && !rest.is_empty() {
                let sub = rest
                    .remove(0)
                    .text()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                verb = format!("UID {sub}");
            }
            let encrypted = self.wire.encrypted;
            self.session(|session| {
                session.commands.push(ImapCommand {
                    verb: verb.clone(),
                    line: text.clone(),
                    encrypted,
                })
            });
            if tag.is_empty() || verb.is_empty() {
                self.send(stream, "* BAD expected a tag and a command\r\n")
                    .await?;
                continue;
            }
            match self.dispatch(stream, &tag, &verb, &rest, &text).await? {
                Some(ending) => return Ok(ending),
                None => continue,
            }
        }
        Ok(Ending::Over)
    }

    /// One command; `Some` when the dialogue on this stream is over.
    async fn dispatch<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        tag: &str,
        verb: &str,
        rest: &[Arg],
        text: &str,
    ) -> io::Result<Option<Ending>> {
        let authenticated = self.user.is_some();
        let reply = match verb {
            "CAPABILITY" => format!(
                "* CAPABILITY {}\r\n{tag} OK CAPABILITY completed\r\n",
                self.capabilities()
            ),
            "NOOP" | "CHECK" => format!("{tag} OK {verb} completed\r\n"),
            "LOGOUT" => {
                self.send(
                    stream,
                    &format!("* BYE logging out\r\n{tag} OK LOGOUT completed\r\n"),
                )
                .await?;
                self.session(|session| session.logged_out = true);
                return Ok(Some(Ending::Over));
            }
            "STARTTLS" => {
                if self.script.tls == MailTls::Starttls && !self.wire.encrypted && !authenticated {
                    self.send(stream, &format!("{tag} OK Begin TLS negotiation now\r\n"))
                        .await?;
                    return Ok(Some(Ending::StartTls));
                }
                format!("{tag} BAD STARTTLS is not offered here\r\n")
            }
            "LOGIN" | "AUTHENTICATE" if authenticated => {
                format!("{tag} BAD already logged in\r\n")
            }
            "LOGIN" => match super::syntax::login(rest) {
                Some((user, password)) => self.login(tag, user, &password),
                None => format!("{tag} BAD LOGIN takes a user name and a password\r\n"),
            },
            "AUTHENTICATE" => self.authenticate(stream, tag, rest).await?,
            _ if !authenticated && !matches!(verb, "ID" | "ENABLE") => {
                if is_known(verb) {
                    format!("{tag} NO log in first\r\n")
                } else {
                    format!("{tag} BAD unknown command {verb}\r\n")
                }
            }
            "ID" => format!("* ID NIL\r\n{tag} OK ID completed\r\n"),
            "ENABLE" => format!("{tag} OK ENABLE completed\r\n"),
            "SELECT" | "EXAMINE" => self.select(tag, verb, rest),
            "LIST" | "LSUB" => {
                let pattern = rest.get(1).and_then(Arg::text).unwrap_or_default();
                if pattern.is_empty() {
                    format!("* {verb} (\\Noselect) \"/\" \"\"\r\n{tag} OK {verb} completed\r\n")
                } else {
                    format!(
                        "* {verb} (\\HasNoChildren) \"/\" INBOX\r\n{tag} OK {verb} completed\r\n"
                    )
                }
            }
            "NAMESPACE" => {
                format!("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n{tag} OK NAMESPACE completed\r\n")
            }
            "STATUS" => self.status(tag, rest),
            _ if !is_known(verb) => format!("{tag} BAD unknown command {verb}\r\n"),
            _ if self.selected.is_none() => format!("{tag} BAD no mailbox selected\r\n"),
            "FETCH" | "UID FETCH" => {
                // Literals may hold any bytes: the reply is bytes, not text.
                let reply = self.fetch(tag, verb, rest);
                self.wire.send(stream, &reply).await?;
                return Ok(None);
            }
            "SEARCH" | "UID SEARCH" => self.search(tag, verb, rest),
            "STORE" | "UID STORE" => self.store(tag, verb, rest, text),
            "EXPUNGE" => self.expunge(tag, true),
            "CLOSE" => {
                let read_only = self
                    .selected
                    .as_ref()
                    .is_some_and(|selected| selected.read_only);
                if !read_only {
                    // Silently: no untagged EXPUNGE after CLOSE (§6.4.2).
                    let _ = self.expunge(tag, false);
                }
                self.selected = None;
                format!("{tag} OK CLOSE completed\r\n")
            }
            "UNSELECT" => {
                self.selected = None;
                format!("{tag} OK UNSELECT completed\r\n")
            }
            _ => format!("{tag} BAD {verb} is not served by this peer\r\n"),
        };
        self.wire.send(stream, reply.as_bytes()).await?;
        Ok(None)
    }

    fn login(&mut self, tag: &str, user: String, password: &str) -> String {
        let accepted = crate::protocols::accounts::is_the_account(
            &user,
            password,
            &self.script.user,
            &self.script.password,
        );
        let encrypted = self.wire.encrypted;
        self.session(|session| session.logins.push((user.clone(), accepted, encrypted)));
        if accepted {
            self.user = Some(user);
            format!(
                "{tag} OK [CAPABILITY {}] Logged in\r\n",
                self.capabilities()
            )
        } else {
            format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        }
    }

    /// `AUTHENTICATE PLAIN [initial-response]` (RFC 4616: authzid NUL authcid NUL passwd).
    async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        stream: &mut S,
        tag: &str,
        rest: &[Arg],
    ) -> io::Result<String> {
        let mechanism = rest
            .first()
            .and_then(Arg::text)
            .unwrap_or_default()
            .to_ascii_uppercase();
        if mechanism != "PLAIN" {
            return Ok(format!("{tag} NO unsupported mechanism (PLAIN only)\r\n"));
        }
        let response = match rest.get(1).and_then(Arg::text) {
            Some(initial) => initial,
            None => {
                self.send(stream, "+ \r\n").await?;
                let Some(line) = self.wire.line(stream).await? else {
                    return Ok(String::new());
                };
                String::from_utf8_lossy(&line).trim().to_owned()
            }
        };
        if response == "*" {
            return Ok(format!("{tag} BAD authentication cancelled\r\n"));
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(response.trim()) else {
            return Ok(format!("{tag} BAD invalid base64\r\n"));
        };
        let parts: Vec<&[u8]> = decoded.split(|&byte| byte == 0).collect();
        let [_, user, password] = parts.as_slice() else {
            return Ok(format!("{tag} BAD invalid PLAIN response\r\n"));
        };
        let user = String::from_utf8_lossy(user).into_owned();
        let password = String::from_utf8_lossy(password).into_owned();
        Ok(self.login(tag, user, &password))
    }

    fn select(&mut self, tag: &str, verb: &str, rest: &[Arg]) -> String {
        let name = rest.first().and_then(Arg::text).unwrap_or_default();
        let read_only = verb == "EXAMINE";
        self.session(|session| session.selected.push((name.clone(), read_only)));
        // A failed SELECT leaves no mailbox selected (§6.3.1).
        self.selected = None;
        if !name.eq_ignore_ascii_case("INBOX") {
            return format!("{tag} NO [NONEXISTENT] Mailbox doesn't exist: {name}\r\n");
        }
        let mailbox = self.mailbox();
        let view: Vec<u32> = mailbox.iter().map(|stored| stored.message.uid).collect();
        let first_unseen = mailbox
            .iter()
            .position(|stored| !stored.flags.iter().any(|flag| flag == r"\Seen"));
        let next = mailbox.last().map_or(1, |stored| stored.message.uid + 1);
        drop(mailbox);
        let mut text = format!("* FLAGS ({FLAGS})\r\n");
        if read_only {
            text += "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n";
        } else {
            text += &format!("* OK [PERMANENTFLAGS ({FLAGS} \\*)] Flags permitted.\r\n");
        }
        text += &format!("* {} EXISTS\r\n* 0 RECENT\r\n", view.len());
        if let Some(first) = first_unseen {
            text += &format!("* OK [UNSEEN {}] First unseen.\r\n", first + 1);
        }
        text += &format!(
            "* OK [UIDVALIDITY {UID_VALIDITY}] UIDs valid\r\n* OK [UIDNEXT {next}] Predicted next UID\r\n"
        );
        text += &format!(
            "{tag} OK [{}] {verb} completed\r\n",
            if read_only { "READ-ONLY" } else { "READ-WRITE" }
        );
        self.selected = Some(Selected { read_only, view });
        text
    }

    fn status(&self, tag: &str, rest: &[Arg]) -> String {
        let name = rest.first().and_then(Arg::text).unwrap_or_default();
        if !name.eq_ignore_ascii_case("INBOX") {
            return format!("{tag} NO [NONEXISTENT] Mailbox doesn't exist: {name}\r\n");
        }
        let Some(Arg::List(items)) = rest.get(1) else {
            return format!("{tag} BAD STATUS takes a mailbox and a list of items\r\n");
        };
        let mailbox = self.mailbox();
        let mut values = Vec::new();
        for item in items.iter().filter_map(Arg::text) {
            let item = item.to_ascii_uppercase();
            let value = match item.as_str() {
                "MESSAGES" => mailbox.len() as u32,
                "RECENT" => 0,
                "UNSEEN" => mailbox
                    .iter()
                    .filter(|stored| !stored.flags.iter().any(|flag| flag == r"\Seen"))
                    .count() as u32,
                "UIDNEXT" => mailbox.last().map_or(1, |stored| stored.message.uid + 1),
                "UIDVALIDITY" => UID_VALIDITY,
                _ => return format!("{tag} BAD unknown STATUS item {item}\r\n"),
            };
            values.push(format!("{item} {value}"));
        }
        format!(
            "* STATUS INBOX ({})\r\n{tag} OK STATUS completed\r\n",
            values.join(" ")
        )
    }

    /// The message numbers (1-based) and UIDs a set names; `Err` for a message number
    /// that does not exist (Dovecot: `BAD ... Invalid messageset`).
    fn resolve(&self, set: &str, by_uid: bool) -> Result<Vec<(usize, u32)>, String> {
        let view = &self
            .selected
            .as_ref()
            .map(|selected| selected.view.clone())
            .unwrap_or_default();
        let star = if by_uid {
            view.last().copied().unwrap_or(0)
        } else {
            view.len() as u32
        };
        let ranges = parse_set(set, star).ok_or_else(|| format!("invalid set {set}"))?;
        if by_uid {
            return Ok(view
                .iter()
                .enumerate()
                .filter(|(_, uid)| {
                    ranges
                        .iter()
                        .any(|(low, high)| (*low..=*high).contains(*uid))
                })
                .map(|(index, uid)| (index + 1, *uid))
                .collect());
        }
        if ranges
            .iter()
            .any(|(low, high)| *low == 0 || *high as usize > view.len())
        {
            return Err("Invalid messageset".into());
        }
        Ok(view
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                let number = *index as u32 + 1;
                ranges
                    .iter()
                    .any(|(low, high)| (*low..=*high).contains(&number))
            })
            .map(|(index, uid)| (index + 1, *uid))
            .collect())
    }

    fn fetch(&mut self, tag: &str, verb: &str, rest: &[Arg]) -> Vec<u8> {
        let by_uid = verb.starts_with("UID");
        let Some(set) = rest.first().and_then(Arg::text) else {
            return format!("{tag} BAD {verb} takes a set and items\r\n").into_bytes();
        };
        let items = match rest.get(1) {
            Some(Arg::List(items)) => items.iter().filter_map(Arg::text).collect::<Vec<_>>(),
            Some(item) => item.text().into_iter().collect(),
            None => return format!("{tag} BAD {verb} takes a set and items\r\n").into_bytes(),
        };
        let mut parsed = Vec::new();
        for item in &items {
            match parse_item(item) {
                Ok(more) => parsed.extend(more),
                Err(reason) => {
                    return format!("{tag} BAD Error in IMAP command {verb}: {reason}\r\n")
                        .into_bytes();
                }
            }
        }
        if by_uid && !parsed.contains(&FetchItem::Uid) {
            parsed.insert(0, FetchItem::Uid);
        }
        let targets = match self.resolve(&set, by_uid) {
            Ok(targets) => targets,
            Err(reason) => {
                return format!("{tag} BAD Error in IMAP command {verb}: {reason}\r\n")
                    .into_bytes();
            }
        };
        let read_only = self
            .selected
            .as_ref()
            .is_none_or(|selected| selected.read_only);
        let mut out = Vec::new();
        let mut newly_seen = Vec::new();
        {
            let mut mailbox = self.mailbox();
            for (number, uid) in targets {
                let Some(stored) = mailbox.iter_mut().find(|stored| stored.message.uid == uid)
                else {
                    continue;
                };
                let raw = &stored.message.raw;
                let mut parts: Vec<Vec<u8>> = Vec::new();
                let mut sets_seen = false;
                for item in &parsed {
                    let mut piece = Vec::new();
                    match item {
                        FetchItem::Flags => {}
                        FetchItem::Uid => piece.extend(format!("UID {uid}").bytes()),
                        FetchItem::Size => {
                            piece.extend(format!("RFC822.SIZE {}", raw.len()).bytes())
                        }
                        FetchItem::InternalDate => piece.extend(
                            format!("INTERNALDATE \"{}\"", stored.message.internal_date).bytes(),
                        ),
                        FetchItem::Content {
                            label,
                            section,
                            partial,
                            peek,
                        } => {
                            let Some(bytes) = section_bytes(raw, section) else {
                                piece.extend(format!("{label} NIL").bytes());
                                parts.push(piece);
                                continue;
                            };
                            let bytes = &bytes[..];
                            let (bytes, label) = match partial {
                                Some((start, count)) => {
                                    let start = (*start).min(bytes.len());
                                    let end = start.saturating_add(*count).min(bytes.len());
                                    (&bytes[start..end], format!("{label}<{start}>"))
                                }
                                None => (bytes, label.clone()),
                            };
                            piece.extend(format!("{label} {{{}}}\r\n", bytes.len()).bytes());
                            piece.extend_from_slice(bytes);
                            sets_seen |= !peek;
                        }
                    }
                    parts.push(piece);
                }
                if sets_seen && !read_only && !stored.flags.iter().any(|flag| flag == r"\Seen") {
                    stored.flags.push(r"\Seen".to_owned());
                    newly_seen.push(uid);
                }
                let flags = format!("FLAGS ({})", stored.flags.join(" "));
                for (item, piece) in parsed.iter().zip(parts.iter_mut()) {
                    if *item == FetchItem::Flags {
                        *piece = flags.clone().into_bytes();
                    }
                }
                // A flag changed by the fetch is sent with it (RFC 3501 §6.4.5).
                if newly_seen.last() == Some(&uid) && !parsed.contains(&FetchItem::Flags) {
                    parts.push(flags.into_bytes());
                }
                out.extend(format!("* {number} FETCH (").bytes());
                out.extend(parts.join(&b' '));
                out.extend(b")\r\n");
            }
        }
        if !newly_seen.is_empty() {
            self.session(|session| session.seen_set.extend(&newly_seen));
        }
        out.extend(format!("{tag} OK {verb} completed\r\n").bytes());
        out
    }

    fn search(&self, tag: &str, verb: &str, rest: &[Arg]) -> String {
        let by_uid = verb.starts_with("UID");
        let view = self
            .selected
            .as_ref()
            .map(|selected| selected.view.clone())
            .unwrap_or_default();
        let mailbox = self.mailbox();
        let mut keys: Vec<String> = rest.iter().filter_map(Arg::text).collect();
        if keys
            .first()
            .is_some_and(|key| key.eq_ignore_ascii_case("CHARSET"))
        {
            keys.drain(..2.min(keys.len()));
        }
        let mut found = Vec::new();
        for (index, uid) in view.iter().enumerate() {
            let Some(stored) = mailbox.iter().find(|stored| stored.message.uid == *uid) else {
                continue;
            };
            let (header, _) = split_message(&stored.message.raw);
            let has = |flag: &str| stored.flags.iter().any(|held| held == flag);
            let mut matches = true;
            let mut words = keys.iter();
            while let Some(key) = words.next() {
                let upper = key.to_ascii_uppercase();
                let holds = match upper.as_str() {
                    "ALL" => true,
                    "SEEN" => has(r"\Seen"),
                    "UNSEEN" | "NEW" => !has(r"\Seen"),
                    "DELETED" => has(r"\Deleted"),
                    "UNDELETED" => !has(r"\Deleted"),
                    "FROM" | "TO" | "SUBJECT" => {
                        let wanted = words.next().cloned().unwrap_or_default().to_lowercase();
                        let field = match upper.as_str() {
                            "FROM" => "From",
                            "TO" => "To",
                            _ => "Subject",
                        };
                        header_value(header, field)
                            .unwrap_or_default()
                            .to_lowercase()
                            .contains(&wanted)
                    }
                    "UID" => {
                        let set = words.next().cloned().unwrap_or_default();
                        parse_set(&set, view.last().copied().unwrap_or(0)).is_some_and(|ranges| {
                            ranges
                                .iter()
                                .any(|(low, high)| (*low..=*high).contains(uid))
                        })
                    }
                    _ => match parse_set(key, view.len() as u32) {
                        Some(ranges) => {
                            let number = index as u32 + 1;
                            ranges
                                .iter()
                                .any(|(low, high)| (*low..=*high).contains(&number))
                        }
                        None => return format!("{tag} BAD unknown search key {key}\r\n"),
                    },
                };
                matches &= holds;
            }
            if matches {
                found.push(if by_uid { *uid } else { index as u32 + 1 });
            }
        }
        let mut line = "* SEARCH".to_owned();
        for number in found {
            line += &format!(" {number}");
        }
        format!("{line}\r\n{tag} OK {verb} completed\r\n")
    }

    fn store(&mut self, tag: &str, verb: &str, rest: &[Arg], text: &str) -> String {
        if self
            .selected
            .as_ref()
            .is_none_or(|selected| selected.read_only)
        {
            return format!("{tag} NO [READ-ONLY] mailbox is read-only (EXAMINE)\r\n");
        }
        let by_uid = verb.starts_with("UID");
        let set = rest.first().and_then(Arg::text).unwrap_or_default();
        let action = rest
            .get(1)
            .and_then(Arg::text)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let flags: Vec<String> = match rest.get(2) {
            Some(Arg::List(flags)) => flags.iter().filter_map(Arg::text).collect(),
            Some(flag) => flag.text().into_iter().collect(),
            None => return format!("{tag} BAD {verb} takes a set, an action and flags\r\n"),
        };
        let silent = action.ends_with(".SILENT");
        let action = action.trim_end_matches(".SILENT");
        if !matches!(action, "FLAGS" | "+FLAGS" | "-FLAGS") {
            return format!("{tag} BAD unknown STORE action {action}\r\n");
        }
        let targets = match self.resolve(&set, by_uid) {
            Ok(targets) => targets,
            Err(reason) => return format!("{tag} BAD Error in IMAP command {verb}: {reason}\r\n"),
        };
        let mut out = String::new();
        let mut newly_seen = Vec::new();
        {
            let mut mailbox = self.mailbox();
            for (number, uid) in targets {
                let Some(stored) = mailbox.iter_mut().find(|stored| stored.message.uid == uid)
                else {
                    continue;
                };
                let had_seen = stored.flags.iter().any(|flag| flag == r"\Seen");
                let same = |a: &String, b: &String| a.eq_ignore_ascii_case(b);
                match action {
                    "FLAGS" => stored.flags = flags.clone(),
                    "+FLAGS" => {
                        for flag in &flags {
                            if !stored.flags.iter().any(|held| same(held, flag)) {
                                stored.flags.push(flag.clone());
                            }
                        }
                    }
                    _ => stored
                        .flags
                        .retain(|held| !flags.iter().any(|flag| same(held, flag))),
                }
                if !had_seen
                    && stored
                        .flags
                        .iter()
                        .any(|flag| flag.eq_ignore_ascii_case(r"\Seen"))
                {
                    newly_seen.push(uid);
                }
                if !silent {
                    let uid_part = if by_uid {
                        format!("UID {uid} ")
                    } else {
                        String::new()
                    };
                    out += &format!(
                        "* {number} FETCH ({uid_part}FLAGS ({}))\r\n",
                        stored.flags.join(" ")
                    );
                }
            }
        }
        self.session(|session| {
            session.stores.push(text.to_owned());
            session.seen_set.extend(&newly_seen);
        });
        out + &format!("{tag} OK {verb} completed\r\n")
    }

    /// Removes the messages flagged `\Deleted`; `announce`: with untagged `EXPUNGE`s.
    fn expunge(&mut self, tag: &str, announce: bool) -> String {
        let Some(selected) = self.selected.as_mut() else {
            return format!("{tag} BAD no mailbox selected\r\n");
        };
        if selected.read_only {
            return format!("{tag} NO [READ-ONLY] mailbox is read-only (EXAMINE)\r\n");
        }
        let mut removed = Vec::new();
        {
            let mut mailbox = self
                .store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            mailbox.retain(|stored| {
                let deleted = stored
                    .flags
                    .iter()
                    .any(|flag| flag.eq_ignore_ascii_case(r"\Deleted"));
                if deleted {
                    removed.push(stored.message.uid);
                }
                !deleted
            });
        }
        let mut out = String::new();
        for uid in &removed {
            if let Some(position) = selected.view.iter().position(|held| held == uid) {
                selected.view.remove(position);
                out += &format!("* {} EXPUNGE\r\n", position + 1);
            }
        }
        if !removed.is_empty() {
            self.session(|session| session.expunged.extend(&removed));
        }
        if !announce {
            out.clear();
        }
        out + &format!("{tag} OK EXPUNGE completed\r\n")
    }
}

/// Every command this peer knows, in any state.
fn is_known(verb: &str) -> bool {
    matches!(
        verb,
        "CAPABILITY"
            | "NOOP"
            | "CHECK"
            | "LOGOUT"
            | "STARTTLS"
            | "LOGIN"
            | "AUTHENTICATE"
            | "ID"
            | "ENABLE"
            | "SELECT"
            | "EXAMINE"
            | "LIST"
            | "LSUB"
            | "NAMESPACE"
            | "STATUS"
            | "FETCH"
            | "UID FETCH"
            | "SEARCH"
            | "UID SEARCH"
            | "STORE"
            | "UID STORE"
            | "EXPUNGE"
            | "CLOSE"
            | "UNSELECT"
    )
}
