//! What the IMAP and POP3 packs share (not a pack itself): the seeded mailboxes both
//! serve, the TLS modes both offer, and the line-and-literal reader both read clients
//! with.
//!
//! Why a sibling module and not a copy in each pack: a scenario names the same mailbox
//! (`mailbox = "inbox"`) for `imap-read` and `pop3-fetch`, and the two must serve the
//! same bytes, so the definitions live once. (GreenMail keeps its IMAP and POP3 servers
//! over one shared store too.)
//!
//! # The seeded mailboxes
//!
//! Deterministic data, built in Rust at first use, every line ending in CRLF:
//!
//! | name              | messages |
//! |-------------------|----------|
//! | `inbox`           | 1 plain text (lines starting with `.`), 2 multipart/mixed with a text part and an attachment `minutes.bin`, 3 quoted-printable ISO-8859-1 text (a reader that decodes every body as UTF-8 garbles it), 4 base64 UTF-8 text, 5 `=?UTF-8?B?...?=` subject and a `From` with an encoded display name |
//! | `attachment-only` | 1 multipart/mixed with no text part (an `image/png` only) |
//! | `empty`           | none |
//!
//! UIDs start at 101, so a client that mixes up UIDs and message numbers is seen doing so.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::transcript::{Direction, Transcript};
use crate::world::capture::Capture;

/// How the server peer speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum MailTls {
    /// In clear only: no STARTTLS/STLS offered.
    None,
    /// In clear, offering `STARTTLS` (IMAP, RFC 9051 §6.2.1) or `STLS` (POP3, RFC 2595
    /// §4); a login in clear is still accepted (as Dovecot does on loopback), and kept
    /// in the record for `never_in_clear`.
    Starttls,
    /// TLS from the first byte (IMAPS 993, POP3S 995; RFC 8314): the handshake, then the
    /// greeting.
    Implicit,
}

impl MailTls {
    /// In words, for a step's description.
    pub(super) fn describe(self) -> &'static str {
        match self {
            MailTls::None => "in clear, without TLS",
            MailTls::Starttls => "in clear, offering STARTTLS",
            MailTls::Implicit => "TLS from the first byte",
        }
    }
}

/// One message of a seeded mailbox.
#[derive(Debug, Clone)]
pub(super) struct SeededMessage {
    /// Its UID (IMAP) and, as `lab-<uid>`, its unique id (POP3 `UIDL`).
    pub uid: u32,
    /// The whole message, RFC 5322, CRLF line endings.
    pub raw: Vec<u8>,
    /// When it arrived, IMAP's `INTERNALDATE` form.
    pub internal_date: &'static str,
}

/// The names of the seeded mailboxes.
pub(super) const MAILBOX_NAMES: [&str; 3] = ["inbox", "attachment-only", "empty"];

/// The seeded mailbox `name`, if there is one.
pub(super) fn seeded(name: &str) -> Option<&'static [SeededMessage]> {
    static BOXES: OnceLock<Vec<Vec<SeededMessage>>> = OnceLock::new();
    let boxes = BOXES.get_or_init(|| vec![inbox(), attachment_only(), Vec::new()]);
    let index = MAILBOX_NAMES.iter().position(|known| *known == name)?;
    Some(&boxes[index])
}

/// `\n` to CRLF.
fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

/// Base64 in lines of 76 characters (RFC 2045 §6.8), each ending in `\n`.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut text = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        text.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        text.push('\n');
    }
    text
}

/// An RFC 2047 encoded word, UTF-8, base64.
fn encoded_word(text: &str) -> String {
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// The attachment of message 2: 300 bytes, every byte value, deterministic.
pub(super) fn minutes_attachment() -> Vec<u8> {
    (0..300u32).map(|index| (index * 7 % 256) as u8).collect()
}

/// The image of `attachment-only`: a PNG signature and a few bytes.
pub(super) fn image_attachment() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..64u8).map(|index| index.wrapping_mul(13)));
    bytes
}

/// The text of message 4, before base64.
pub(super) const BASE64_TEXT: &str = "Grüezi Alice!\nThe lake is frozen; the fondue is not.\n";
/// The subject of message 5, before encoding.
pub(super) const ENCODED_SUBJECT: &str = "Grüße aus Köln ☕";
/// The sender's name of message 5, before encoding.
pub(super) const ENCODED_SENDER: &str = "Dörte Müller";

fn inbox() -> Vec<SeededMessage> {
    let plain = "From: bob@example.com
To: alice@example.com
Date: Mon, 03 Mar 2025 09:15:00 +0000
Subject: Lunch on Friday
Message-ID: <1.lunch@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hi Alice,

Are we still on for lunch on Friday?
.A line that starts with a dot.
..And one that starts with two.

Bob
";
    let multipart = format!(
        "From: Carol Jones <carol@example.com>
To: alice@example.com
Date: Tue, 04 Mar 2025 14:30:00 +0100
Subject: Minutes of the meeting
Message-ID: <2.minutes@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"=-lab-boundary-1\"

This is a multi-part message in MIME format.

--=-lab-boundary-1
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hello Alice,

The minutes are attached.

Carol
--=-lab-boundary-1
Content-Type: application/octet-stream; name=\"minutes.bin\"
Content-Disposition: attachment; filename=\"minutes.bin\"
Content-Transfer-Encoding: base64

{}--=-lab-boundary-1--
",
        base64_lines(&minutes_attachment())
    );
    let quoted_printable = "From: Dave Smith <dave@example.org>
To: alice@example.com
Date: Wed, 05 Mar 2025 08:00:00 +0000
Subject: Menu of the week
Message-ID: <3.menu@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 au lait, cr=E8me br=FBl=E9e, and a line long enough to be =
broken by a soft line break.
Price: 5 =3D five euros.
";
    let base64_body = format!(
        "From: Eve <eve@example.net>
To: alice@example.com
Date: Thu, 06 Mar 2025 18:45:00 +0100
Subject: Greetings from Zurich
Message-ID: <4.greetings@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{}",
        base64_lines(BASE64_TEXT.replace('\n', "\r\n").as_bytes())
    );
    let encoded = format!(
        "From: {} <doerte@example.de>
To: alice@example.com
Date: Fri, 07 Mar 2025 07:30:00 +0100
Subject: {}
Message-ID: <5.koeln@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Liebe Alice, bis bald!
",
        encoded_word(ENCODED_SENDER),
        encoded_word(ENCODED_SUBJECT)
    );
    let dates = [
        "03-Mar-2025 09:15:01 +0000",
        "04-Mar-2025 13:30:02 +0000",
        "05-Mar-2025 08:00:03 +0000",
        "06-Mar-2025 17:45:04 +0000",
        "07-Mar-2025 06:30:05 +0000",
    ];
    [
        plain.to_owned(),
        multipart,
        quoted_printable.to_owned(),
        base64_body,
        encoded,
    ]
    .iter()
    .zip(dates)
    .enumerate()
    .map(|(index, (text, date))| SeededMessage {
        uid: 101 + index as u32,
        raw: crlf(text),
        internal_date: date,
    })
    .collect()
}

fn attachment_only() -> Vec<SeededMessage> {
    let text = format!(
        "From: Frank <frank@example.com>
To: alice@example.com
Date: Sat, 08 Mar 2025 10:00:00 +0000
Subject: The photo
Message-ID: <6.photo@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=\"=-lab-boundary-2\"

--=-lab-boundary-2
Content-Type: image/png; name=\"photo.png\"
Content-Disposition: attachment; filename=\"photo.png\"
Content-Transfer-Encoding: base64

{}--=-lab-boundary-2--
",
        base64_lines(&image_attachment())
    );
    vec![SeededMessage {
        uid: 101,
        raw: crlf(&text),
        internal_date: "08-Mar-2025 10:00:01 +0000",
    }]
}

/// A message's header (through the blank line that ends it) and its body.
pub(super) fn split_message(raw: &[u8]) -> (&[u8], &[u8]) {
    match raw.windows(4).position(|window| window == b"\r\n\r\n") {
        Some(at) => raw.split_at(at + 4),
        None => (raw, &[]),
    }
}

/// The header lines (each with its folded continuation lines) whose field name is (or,
/// with `not`, is not) in `names`, then the blank line (RFC 9051 §6.4.5 HEADER.FIELDS).
pub(super) fn header_fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&byte| byte == b'\n') {
        if line == b"\r\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line
                .split(|&byte| byte == b':')
                .next()
                .map(|name| String::from_utf8_lossy(name).trim().to_ascii_uppercase())
                .unwrap_or_default();
            keep = names
                .iter()
                .any(|wanted| wanted.eq_ignore_ascii_case(&name))
                != not;
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The value of the header field `name` (unfolded), if the header has it.
pub(super) fn header_value(header: &[u8], name: &str) -> Option<String> {
    let fields = header_fields(header, &[name.to_owned()], false);
    let text = String::from_utf8_lossy(&fields);
    let (_, value) = text.split_once(':')?;
    Some(value.replace("\r\n", "").trim().to_owned())
}

/// The top-level parts of a multipart message, each as its own header and body; none for
/// a message that is not multipart.
pub(super) fn mime_parts(raw: &[u8]) -> Vec<&[u8]> {
    let (header, body) = split_message(raw);
    let Some(content_type) = header_value(header, "Content-Type") else {
        return Vec::new();
    };
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return Vec::new();
    }
    let Some(at) = content_type.to_ascii_lowercase().find("boundary=") else {
        return Vec::new();
    };
    let boundary = content_type[at + 9..]
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset: usize = 0;
    for line in body.split_inclusive(|&byte| byte == b'\n') {
        let text = line.strip_suffix(b"\r\n").unwrap_or(line);
        if text.starts_with(delimiter.as_bytes()) {
            if let Some(begin) = start {
                // The CRLF before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                let end = offset.saturating_sub(2).max(begin);
                parts.push(&body[begin..end]);
            }
            if text == format!("{delimiter}--").as_bytes() {
                return parts;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    parts
}

/// The most bytes received in clear kept per connection, by either mail pack.
pub(super) const MAX_CLEAR: usize = 1 << 20;

/// Opens the record of a new connection's session in `sessions`: its index, and what
/// [`MailWire::clear`] takes (every byte received outside TLS, kept in the session's
/// `in_clear` up to [`MAX_CLEAR`]).
pub(super) fn open_session<S: Default + Send + 'static>(
    sessions: &Arc<Mutex<Vec<S>>>,
    in_clear: fn(&mut S) -> &mut Vec<u8>,
) -> (usize, impl Fn(&[u8]) + Send + Sync + 'static) {
    let index = {
        let mut all = sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        all.push(S::default());
        all.len() - 1
    };
    let sessions = Arc::clone(sessions);
    let clear = move |piece: &[u8]| {
        let mut all = sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let kept = in_clear(&mut all[index]);
        let room = MAX_CLEAR.saturating_sub(kept.len());
        kept.extend_from_slice(&piece[..piece.len().min(room)]);
    };
    (index, clear)
}

/// The bytes one client connection sends and is sent, read and written the way every
/// peer of the harness must: however they are sliced, recorded in the transcript and the
/// capture, and (outside TLS) handed to `clear` for the record of what crossed in clear.
pub(super) struct MailWire<'a> {
    pub label: &'a str,
    pub transcript: &'a Transcript,
    pub received: &'a Capture,
    /// The stream read is inside TLS.
    pub encrypted: bool,
    /// Bytes read and not used yet.
    pub pending: Vec<u8>,
    /// Takes every byte read outside TLS.
    pub clear: &'a (dyn Fn(&[u8]) + Send + Sync),
}

/// The longest command line read.
pub(super) const MAX_LINE: usize = 64 * 1024;

impl MailWire<'_> {
    fn got(&self, piece: &[u8]) {
        if piece.is_empty() {
            self.transcript
                .fin(self.label, Direction::FromProgram, "closed");
            return;
        }
        self.transcript
            .data(self.label, Direction::FromProgram, piece);
        let _ = self.received.append(piece);
        if !self.encrypted {
            (self.clear)(piece);
        }
    }

    /// The next line, through its `\n` (a line cut by the close as it is); `None` once
    /// the client closed.
    pub(super) async fn line<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut pending = std::mem::take(&mut self.pending);
        let line =
            crate::peers::next_line(stream, &mut pending, MAX_LINE, |piece| self.got(piece)).await;
        self.pending = pending;
        line
    }

    /// Exactly `count` bytes (an IMAP literal); `None` if the client closed first.
    pub(super) async fn exact<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        count: usize,
    ) -> io::Result<Option<Vec<u8>>> {
        let mut buffer = vec![0u8; 16 * 1024];
        while self.pending.len() < count {
            let read = stream.read(&mut buffer).await?;
            self.got(&buffer[..read]);
            if read == 0 {
                return Ok(None);
            }
            self.pending.extend_from_slice(&buffer[..read]);
        }
        Ok(Some(self.pending.drain(..count).collect()))
    }

    /// Writes `bytes`, recorded in the transcript.
    pub(super) async fn send<S: AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        bytes: &[u8],
    ) -> io::Result<()> {
        let _held = self.transcript.pending().hold();
        stream.write_all(bytes).await?;
        stream.flush().await?;
        self.transcript
            .data(self.label, Direction::ToProgram, bytes);
        Ok(())
    }

    /// TLS is up: what follows is encrypted, and what came before the handshake and was
    /// not read is dropped (RFC 3207 §5, RFC 2595 §3.1: it could have been injected).
    pub(super) fn tls_established(&mut self) {
        self.encrypted = true;
        self.pending.clear();
        self.transcript.event(
            self.label,
            Direction::FromProgram,
            "TLS established: what follows was encrypted on the wire (shown decrypted)",
        );
    }

    /// The TLS handshake failed.
    pub(super) fn tls_failed(&self, error: &io::Error) {
        self.transcript.event(
            self.label,
            Direction::FromProgram,
            format!("TLS handshake failed: {error}"),
        );
    }
}

/// The server side of a TLS handshake with the harness's test CA.
pub(super) async fn accept_tls<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    certificate: Certificate,
) -> io::Result<tokio_rustls::server::TlsStream<S>> {
    let ca = crate::tls::test_ca()?;
    let config = match certificate {
        Certificate::Right => &ca.server_config,
        Certificate::AnotherName => &ca.another_name_config,
    };
    tokio_rustls::TlsAcceptor::from(std::sync::Arc::clone(config))
        .accept(stream)
        .await
}

/// What the IMAP and POP3 session judges say of logins, from each login tried (the user
/// name, whether it was accepted, whether inside TLS): `logged_in`, one was accepted;
/// `no_login`, none was even tried. `commands` names the protocol's login commands.
pub(super) fn judge_logins<'a>(
    logins: impl Iterator<Item = &'a (String, bool, bool)> + Clone,
    logged_in: bool,
    no_login: bool,
    commands: &str,
) -> Result<(), (String, String)> {
    let tried = || -> Vec<String> {
        logins
            .clone()
            .map(|(user, accepted, encrypted)| {
                format!(
                    "`{user}` ({}, {})",
                    if *accepted { "accepted" } else { "refused" },
                    if *encrypted { "inside TLS" } else { "in clear" }
                )
            })
            .collect()
    };
    if logged_in && !logins.clone().any(|(_, accepted, _)| *accepted) {
        let tried = tried();
        return Err((
            "the client to log in".into(),
            if tried.is_empty() {
                format!("no {commands}")
            } else {
                tried.join(", ")
            },
        ));
    }
    if no_login && logins.clone().next().is_some() {
        return Err((
            format!(
                "no {commands} at all: the password must not leave the program for a server it cannot trust (SPEC read/4)"
            ),
            format!("a login with {}", tried().join(", ")),
        ));
    }
    Ok(())
}

/// Which certificate a mail server peer presents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Certificate {
    /// One the test CA signed for the name the client asked for (or the loopback).
    #[default]
    Right,
    /// One the test CA signed for another name (`another-server.invalid`): trusted, but
    /// not this server's, so a client that checks the name refuses it before it logs in.
    AnotherName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_mailboxes_are_what_the_docs_say() {
        assert_eq!(seeded("inbox").unwrap().len(), 5);
        assert_eq!(seeded("attachment-only").unwrap().len(), 1);
        assert!(seeded("empty").unwrap().is_empty());
        assert!(seeded("nope").is_none());
        for message in seeded("inbox").unwrap() {
            // Every line ends in CRLF.
            assert!(
                message
                    .raw
                    .split_inclusive(|&byte| byte == b'\n')
                    .all(|line| line.ends_with(b"\r\n"))
            );
        }
    }

    #[test]
    fn parts_headers_and_fields_come_apart() {
        let raw = &seeded("inbox").unwrap()[1].raw;
        let parts = mime_parts(raw);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].starts_with(b"Content-Type: text/plain"));
        assert!(parts[0].ends_with(b"Carol"));
        let (header, _) = split_message(raw);
        assert_eq!(
            header_value(header, "subject").as_deref(),
            Some("Minutes of the meeting")
        );
        let fields = header_fields(header, &["FROM".into(), "Subject".into()], false);
        assert_eq!(
            fields,
            b"From: Carol Jones <carol@example.com>\r\nSubject: Minutes of the meeting\r\n\r\n"
        );
        assert!(mime_parts(&seeded("inbox").unwrap()[0].raw).is_empty());
    }
}

/// What the IMAP and POP3 packs' tests share: a peer on loopback, and the real clients
/// (Python's `imaplib`/`poplib`, curl) that drive it. A missing client fails the test,
/// saying what to install: it never skips.
#[cfg(test)]
pub(crate) mod testing {
    use std::process::Output;

    pub(crate) use crate::protocols::testing::{run, start_peer};

    /// The test CA's certificate file (PEM), for the clients to verify the peer with.
    pub(crate) fn ca_file() -> String {
        crate::tls::test_ca()
            .expect("the test CA")
            .ca_file()
            .display()
            .to_string()
    }

    /// Debian's Python (`/usr/bin/python3`, whose `ssl`, `imaplib`, `poplib` these tests
    /// drive) running `script` with `args`; its stdout, after checking it exited 0.
    pub(crate) async fn python(script: &str, args: &[String]) -> String {
        const PYTHON: &str = "/usr/bin/python3";
        assert!(
            std::path::Path::new(PYTHON).exists(),
            "{PYTHON} is missing: install Debian's python3 (apt-get install python3)"
        );
        let mut all = vec!["-c".to_owned(), script.to_owned()];
        all.extend_from_slice(args);
        let output = run(PYTHON, all, "Debian's python3 (apt-get install python3)").await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "python failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// curl with `args` (`-s` added); its output whole, whatever its exit status.
    pub(crate) async fn curl(args: &[&str]) -> Output {
        let mut all = vec!["-s".to_owned(), "--max-time".to_owned(), "30".to_owned()];
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        run("curl", all, "curl (apt-get install curl)").await
    }
}
