//! # What `imap-read` and `pop3-fetch` share: reading mail
//!
//! Reading list: the handout (000, items \[19\] "read mail with IMAP", \[24\] "fetch mail
//! with POP3" and \[26\]) and its contract, `scenarios/SPEC.md#imap-read-pop3-fetch`,
//! clauses `read/1`–`read/4`. For the message: RFC 5322 §3.6 (the header
//! fields `From`, `To`, `Date`, `Subject`), §2.2.3 (folded header lines); RFC 2045 §6
//! (quoted-printable and base64), RFC 2046 §5.1 (multipart messages), RFC 2047 (encoded
//! words in header fields: `=?UTF-8?B?...?=`). For TLS: RFC 8314 (TLS from the first byte
//! is preferred to STARTTLS), RFC 6125 (the certificate must name the server). Each
//! protocol has its own reading list: [`crate::imap_read`], [`crate::pop3_fetch`].
//!
//! The two programs take the same command line and print the same output: only the
//! dialogue in the middle differs. So the command line, the order of the work, the
//! failures and the output are written once, here:
//!
//! ```text
//! imap-read  --server HOST:PORT --user U --password P [--tls] (--list | --show N[,N...])
//! pop3-fetch --server HOST:PORT --user U --password P [--tls] (--list | --show N[,N...])
//!
//!   connect ─ (--tls: handshake) ─ greeting ─ (STARTTLS/STLS offered: handshake)
//!           ─ log in ─ count the messages ─ check every N against the count
//!           ─ fetch (headers for --list, whole messages for --show)
//!           ─ LOGOUT / QUIT ─ print
//! ```
//!
//! Output (stdout is data only, SPEC conventions):
//!
//! ```text
//! --list      1<TAB>bob@example.com<TAB>Lunch on Friday
//!             5<TAB>Dörte Müller <doerte@example.de><TAB>Grüße aus Köln ☕
//! --show 2,1  From: Carol Jones <carol@example.com>
//!             To: alice@example.com
//!             Date: Tue, 04 Mar 2025 14:30:00 +0100
//!             Subject: Minutes of the meeting
//!             (blank line)
//!             Hello Alice, ...   (the text/plain part, decoded)
//!             (blank line between two messages)
//!             From: bob@example.com ...
//! ```
//!
//! What a first mail reader usually gets wrong, whichever the protocol, and these do
//! instead (each protocol's own mistakes are listed in its module):
//!
//! - Printing message 1, then finding that message 9 does not exist, and failing with half
//!   the output on stdout. Here every number is checked against the count before anything
//!   is fetched, everything is fetched before anything is printed, and a failure prints
//!   nothing on stdout (SPEC `read/2` *(decided)*).
//! - Printing the raw header: `Subject: =?UTF-8?B?R3LDvMOfZQ==?=`, or the base64 of the
//!   body. The message is decoded by a MIME parser ([`render`], mail-parser): encoded
//!   words, quoted-printable, base64, the declared charset, the text part of a multipart.
//! - Logging in before TLS, or in clear because it is easier: without `--tls`, a server
//!   that offers STARTTLS (IMAP) or STLS (POP3) gets the password only after the
//!   handshake, with its certificate verified ([`crate::tls`]; SPEC `read/4`).
//! - Waiting forever: every read and write has a deadline ([`REPLY_TIMEOUT`]).
//!
//! ## Layout
//!
//! - `program`: the command line, the work in order, what is printed; each protocol's
//!   dialogue is one [`Protocol`].
//! - [`render`]: a fetched message to the lines printed (MIME decoding, by mail-parser).
//! - `wire`: a connection with deadlines on every read and write, and its upgrade to
//!   TLS; both dialogues are written over it.
//! - [`Failure`]: why a run failed, as the user reads it on stderr.

mod failure;
mod program;
pub mod render;
mod wire;

pub use failure::Failure;
pub use program::{Fetched, Login, Protocol, Request, Wanted, read_main};
pub use wire::{MAX_LINE, MAX_MESSAGE, REPLY_TIMEOUT, Wire};
