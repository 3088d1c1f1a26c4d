//! # `smtp-client`: a mail client
//!
//! Reading list: the handouts (001, task 4 "Mail Client"; 003, "Mail Client", after Kurose
//! & Ross's SMTP lab; 000, items \[20\] attachments and \[21\] TLS) and their contract,
//! `scenarios/SPEC.md#smtp-client`, clauses `smtp/1`–`smtp/5`. For SMTP: RFC 5321 §3.3 (a mail
//! transaction), §4.1 (the commands), §4.2 (replies and their codes, multi-line replies),
//! §4.5.2 (dot-stuffing), §2.3.8 (CRLF); RFC 3207 (STARTTLS); RFC 4954 and RFC 4616 (AUTH
//! PLAIN); for the message: RFC 5322 (header fields), RFC 2045 and RFC 2046 (MIME,
//! base64, multipart/mixed), RFC 2183 (Content-Disposition).
//!
//! The handout, in short: the client (`smtp-client --server HOST:PORT --from A --to B
//! --subject S < BODY`) opens a TCP connection to a mail server, holds an SMTP dialogue
//! with it to send one message, and closes the connection. The contract adds several
//! recipients, attachments (`--attach FILE`), TLS (`--starttls`) and logging in (`--user U
//! --password P`).
//!
//! ```text
//! client                                        server
//!   | ---- connect ---------------------------->  |
//!   |  <-- 220 mail.example ESMTP --------------  |  wait for the greeting
//!   | ---- EHLO localhost --------------------->  |
//!   |  <-- 250-mail.example --------------------  |  a multi-line reply: read up to
//!   |  <-- 250-STARTTLS ------------------------  |  the line with a space after
//!   |  <-- 250 8BITMIME ------------------------  |  the code
//!   | ---- STARTTLS --------------------------->  |  (--starttls)
//!   |  <-- 220 ready ---------------------------  |
//!   | ==== TLS handshake, then EHLO again ======  |  (--starttls)
//!   | ---- AUTH PLAIN AGFsaWNlAHNlY3JldA== ---->  |  (--user, over TLS only)
//!   |  <-- 235 ---------------------------------  |
//!   | ---- MAIL FROM:<a@example.com> ---------->  |
//!   |  <-- 250 ---------------------------------  |
//!   | ---- RCPT TO:<b@example.com> ------------>  |  one per --to
//!   |  <-- 250 ---------------------------------  |
//!   | ---- DATA ------------------------------->  |
//!   |  <-- 354 ---------------------------------  |
//!   | ---- From: ... (header fields) ---------->  |  the message, built by lettre,
//!   | ---- (empty line) ----------------------->  |  every line ending in CRLF
//!   | ---- ..hidden --------------------------->  |  a body line ".hidden", stuffed
//!   | ---- . ---------------------------------->  |  the end of the message
//!   |  <-- 250 ---------------------------------  |
//!   | ---- QUIT ------------------------------->  |
//!   |  <-- 221 ---------------------------------  |  close, exit 0
//! ```
//!
//! Any other reply (a 4xx or 5xx: `550 no such user`) ends the dialogue with QUIT, a line
//! on stderr naming the command and the reply, and exit status 1 (SPEC `smtp/5`). Nothing
//! is ever printed on stdout.
//!
//! What the handout's skeleton gets wrong, and this reference does instead:
//!
//! - `recv(1024)` after each command, taken as the reply: it may hold half a reply, or
//!   the first lines of a multi-line one (EHLO's), and then every later reply is read one
//!   command late. Here replies are read whole, line by line ([`reply`]).
//! - `if recv[:3] != '250': print('250 reply not received')`, and carrying on: the mail
//!   is lost and the program says nothing useful. Here every code is checked and the
//!   first unexpected one stops the dialogue (`session`).
//! - `"\r\n.\r\n"` after a body read with `input()`: lines end in LF, and a line starting
//!   with `.` ends the message early or loses its dot. Here every line ends in CRLF and a
//!   leading dot is doubled ([`dot_stuffing`]), by this code, not by a library.
//! - Building the message by hand (`"Subject: " + subject`): no Date, no Message-ID, no
//!   MIME, attachments that do not decode. A crate builds the message ([`message`]).
//! - `AUTH LOGIN` before `STARTTLS`, or with no TLS at all: the password crosses the
//!   network in base64, which is not encryption. Here `--user` without `--starttls` is
//!   refused before connecting, and a server that does not offer STARTTLS gets no message
//!   ([`crate::tls`], SPEC `smtp/4`).
//! - No timeout: a server that never answers hangs the client forever. Here every reply
//!   is awaited at most 30 s ([`REPLY_TIMEOUT`]).
//!
//! ## Layout
//!
//! - `client`: the program: arguments, the message, connecting, the dialogue in order.
//! - `session`: the dialogue, command by command, generic over the stream (TCP or TLS).
//! - [`reply`]: reading whole replies, multi-line ones included.
//! - [`dot_stuffing`]: the message on the wire after DATA (a pure transformation).
//! - [`message`]: the message's header fields and MIME parts, built by lettre.
//!
//! Shared with the other programs: the bounded line reader ([`crate::lines`], with
//! `smtp_server`, `imap_read` and `pop3_fetch`), the trusted roots and the TLS
//! configuration ([`crate::tls`], with `imap_read` and `pop3_fetch`), and `--server
//! HOST:PORT` ([`crate::cli::parse_server`]).

mod client;
pub mod dot_stuffing;
pub mod message;
pub mod reply;
mod session;

pub use client::{
    Mail, Outgoing, Sender, Submission, client_main, refuse_login_in_clear, submit, transmit,
};
pub use session::{
    Authentication, CLIENT_NAME, Envelope, Extensions, Failure, MessageSource, QUIT_TIMEOUT,
    REPLY_TIMEOUT, Session,
};
