//! # `pop3-fetch`: reading mail with POP3
//!
//! Reading list: the handout (000, items \[24\] and \[26\], written there with Python's
//! `poplib`) and its contract, `scenarios/SPEC.md#imap-read-pop3-fetch`, clauses
//! `read/1`–`read/4`. For POP3: RFC 1939 §3 (commands and answers: `+OK`, `-ERR`,
//! multi-line answers ending in `.`, byte-stuffing), §4 (the AUTHORIZATION, TRANSACTION
//! and UPDATE states), §5 (STAT, LIST, RETR, DELE), §6 (QUIT and the UPDATE state), §7
//! (USER, PASS, TOP); RFC 2449 (CAPA); RFC 2595 §4 (STLS); RFC 8314 (POP3S, TLS from the
//! first byte, port 995). What IMAP and POP3 share (the command line, the MIME decoding,
//! the output) is in [`crate::mail_read`], with its own reading list.
//!
//! ```text
//! client                                          server (port 110, or 995 with --tls)
//!   |  <-- +OK Dovecot ready. --------------------  |  greeting
//!   | ---- CAPA --------------------------------->  |
//!   |  <-- +OK / USER / TOP / STLS / . -----------  |  a multi-line answer, up to "."
//!   | ---- STLS --------------------------------->  |  only if offered, not with --tls
//!   |  <-- +OK -----------------------------------  |
//!   | ==== TLS handshake, certificate verified ===  |
//!   | ---- USER alice / PASS s3cret ------------->  |  never before the handshake
//!   |  <-- +OK / +OK Logged in. ------------------  |
//!   | ---- STAT --------------------------------->  |
//!   |  <-- +OK 5 2391 ----------------------------  |  5 messages, 2391 bytes
//!   | ---- TOP 1 0 ------------------------------>  |  --list: each header
//!   |  <-- +OK / From: ... / (empty) / . ---------  |
//!   | ---- RETR 1 ------------------------------->  |  --show 1: the message
//!   |  <-- +OK / ... / ..A dotted line / . -------  |  one dot taken off: ".A dotted line"
//!   | ---- QUIT --------------------------------->  |  no DELE: nothing is removed
//!   |  <-- +OK -----------------------------------  |  close; then print
//! ```
//!
//! What a first POP3 client usually gets wrong, and this reference does instead:
//!
//! - `DELE` after `RETR`, as many examples do (POP3 was made to move mail off the
//!   server): the mail is gone at QUIT. Here no `DELE` is ever sent (SPEC `read/3`), and
//!   the dialogue ends with QUIT. (Dovecot still marks what RETR read as seen: that is
//!   the server's.)
//! - Waiting for `\r\n.\r\n` in one `recv`, or keeping the stuffed dot: a line of the
//!   message that starts with `.` comes as `..`, and must lose one dot. Here answers are
//!   read line by line up to the line `.` ([`answer`]).
//! - `USER`/`PASS` before `STLS`, or in clear because the server on loopback accepts it:
//!   the password crosses readable. Here a server whose CAPA lists STLS gets the password
//!   only after the handshake, the certificate verified (SPEC `read/4`).
//! - Assuming TOP: it is optional (RFC 1939 §7). Here `--list` asks `TOP n 0`, and if the
//!   server refuses, fetches whole messages with RETR instead.
//! - `RETR 9` straight away, printing what came before and failing there: here STAT's
//!   count is checked first ([`crate::mail_read`]).
//!
//! ## Layout
//!
//! - `session`: the dialogue in order: CAPA, STLS, USER and PASS, STAT, TOP or RETR,
//!   QUIT.
//! - [`answer`]: status lines and multi-line answers, unstuffed.
//!
//! Shared with `imap-read`: [`crate::mail_read`] and, through it, [`crate::lines`] and
//! [`crate::tls`].

pub mod answer;
mod session;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::cli::Stdio;
use crate::mail_read::{Failure, Fetched, Protocol, Request, Wire, read_main};
use crate::net::Network;

/// POP3 as a [`Protocol`] of [`crate::mail_read`].
pub struct Pop3;

impl Protocol for Pop3 {
    const PROGRAM: &'static str = "pop3-fetch";

    async fn read<S, N>(wire: Wire<S, N>, request: &Request<'_>) -> Result<Fetched, Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        N: Network,
    {
        session::read(wire, request).await
    }
}

/// `pop3-fetch --server HOST:PORT --user U --password P [--tls] (--list | --show
/// N[,N...])`.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, stdio: Stdio) -> i32 {
    read_main::<Pop3, N>(net, args, stdio).await
}
