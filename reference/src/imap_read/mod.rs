//! # `imap-read`: reading mail with IMAP
//!
//! Reading list: the handout (000, items \[19\] and \[26\], written there with Python's
//! `imaplib`) and its contract, `scenarios/SPEC.md#imap-read-pop3-fetch`, clauses
//! `read/1`–`read/4`. For IMAP: RFC 9051 (IMAP4rev2; RFC 3501, IMAP4rev1, has the same
//! sections for what is used here): §2.2 (commands carry a tag; the server answers with
//! untagged `*` responses, then one tagged status), §4.3 (strings: quoted, or literals
//! `{n}` followed by exactly n bytes), §2.3.1 (message sequence numbers and UIDs),
//! §6.2.1 (STARTTLS), §6.2.3 (LOGIN, LOGINDISABLED), §6.3.2 and §6.3.3 (SELECT and
//! EXAMINE: read-write and read-only), §6.4.5 (FETCH, `BODY.PEEK[...]` and
//! `HEADER.FIELDS`), §7.4.1 (`* N EXISTS`), §7.5.2 (the FETCH response); RFC 8314 (IMAPS,
//! TLS from the first byte, port 993). What IMAP and POP3 share (the command line, the
//! MIME decoding, the output) is in [`crate::mail_read`], with its own reading list.
//!
//! ```text
//! client                                              server (port 143, or 993 with --tls)
//!   |  <-- * OK [CAPABILITY IMAP4rev1 STARTTLS ...] ---  |  greeting (no CAPABILITY in it:
//!   | ---- a1 STARTTLS ------------------------------->  |   ask with a CAPABILITY command)
//!   |  <-- a1 OK Begin TLS negotiation now ------------  |
//!   | ==== TLS handshake, certificate verified ========  |  only if offered, not with --tls
//!   | ---- a2 LOGIN "alice" "s3cret" ----------------->  |  never before the handshake
//!   |  <-- a2 OK Logged in ----------------------------  |
//!   | ---- a3 EXAMINE INBOX -------------------------->  |  read-only: nothing can change
//!   |  <-- * 5 EXISTS ---------------------------------  |  the number of messages
//!   |  <-- a3 OK [READ-ONLY] --------------------------  |
//!   | ---- a4 FETCH 1,3 (BODY.PEEK[]) ---------------->  |  PEEK: \Seen is not set
//!   |  <-- * 1 FETCH (BODY[] {312}\r\n ... 312 bytes )  |  a literal: read exactly 312
//!   |  <-- * 3 FETCH (BODY[] {518}\r\n ... 518 bytes )  |  bytes, whatever they hold
//!   |  <-- a4 OK Fetch completed ----------------------  |  the end of a4
//!   | ---- a5 LOGOUT --------------------------------->  |
//!   |  <-- * BYE / a5 OK ------------------------------  |  close; then print
//! ```
//!
//! What a first IMAP client usually gets wrong, and this reference does instead:
//!
//! - `SELECT INBOX` and `FETCH n (RFC822)`, as most `imaplib` examples do: the fetch sets
//!   `\Seen`, and the user's new mail shows as read in every other client. Here `EXAMINE`
//!   selects read-only and `BODY.PEEK[]` fetches without setting a flag, each enough alone
//!   (SPEC `read/3`).
//! - One `recv` per response, or reading lines only: a message comes as a literal,
//!   `{312}` and then 312 bytes of any content, lines that look like responses included.
//!   Here a response is read whole ([`response`]): a line, and while it ends in `{n}`,
//!   exactly n bytes and the next line.
//! - Taking the first line after a command for its answer: untagged responses (`* 5
//!   EXISTS`, `* 3 FETCH ...`, even unrelated ones) come first, in any number; the command
//!   is over only at the line with its own tag. Here responses are read until the tag,
//!   and the untagged ones are collected on the way (`session`).
//! - `LOGIN` before `STARTTLS`, or in clear because the server on loopback accepts it:
//!   the password crosses the network readable. Here a server that offers STARTTLS gets
//!   the password only after the handshake, the certificate verified (SPEC `read/4`).
//! - `LOGIN alice pa ss` unquoted: a password with a space, `"` or `\` logs in wrong or
//!   breaks the command. Here strings are quoted with escapes, or sent as literals.
//! - Mixing UIDs and sequence numbers: `--show 3` means the third message now, its
//!   *sequence number*; `UID FETCH 3` would ask for the message whose unique id is 3,
//!   another message or none. Here `FETCH` takes sequence numbers only.
//! - `FETCH 1:*` on an empty mailbox: `*` is the last message, and there is none (a `BAD`
//!   from Dovecot). Here the count from `EXISTS` says what to fetch, and an empty mailbox
//!   is fetched nothing.
//!
//! ## Layout
//!
//! - `session`: the dialogue in order, commands with their tags, STARTTLS, LOGIN's
//!   strings.
//! - [`response`]: reading whole responses (literals included) and taking them apart.
//!
//! Shared with `pop3-fetch`: [`crate::mail_read`] (the command line, the order of the
//! work, the MIME decoding and output) and, through it, [`crate::lines`] and
//! [`crate::tls`].

pub mod response;
mod session;

pub use session::{LIST_ITEM, SHOW_ITEM, quote, sequence_set};

use tokio::io::{AsyncRead, AsyncWrite};

use crate::cli::Stdio;
use crate::mail_read::{Failure, Fetched, Protocol, Request, Wire, read_main};
use crate::net::Network;

/// IMAP as a [`Protocol`] of [`crate::mail_read`].
pub struct Imap;

impl Protocol for Imap {
    const PROGRAM: &'static str = "imap-read";

    async fn read<S, N>(wire: Wire<S, N>, request: &Request<'_>) -> Result<Fetched, Failure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
        N: Network,
    {
        session::read(wire, request).await
    }
}

/// `imap-read --server HOST:PORT --user U --password P [--tls] (--list | --show
/// N[,N...])`.
pub async fn client_main<N: Network>(net: N, args: Vec<String>, stdio: Stdio) -> i32 {
    read_main::<Imap, N>(net, args, stdio).await
}
