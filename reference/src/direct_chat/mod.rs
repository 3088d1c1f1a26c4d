//! # `direct-chat`: private messages between named clients
//!
//! Its contract: `scenarios/SPEC.md#direct-chat`, clauses `direct/1`–`direct/4`.
//!
//! `direct-chat-server PORT` routes; `direct-chat-client HOST PORT USER` registers as
//! USER, sends the lines of its stdin and prints what it receives.
//!
//! ```text
//! alice -> server   alice                  its name, first (a taken name: error:)
//! server -> alice   ok: welcome alice
//! alice -> server   see you at 5|bob       the recipient follows the LAST `|`
//! server -> bob     alice|see you at 5     only bob
//! alice -> server   a|b|c|bob              the message is `a|b|c`
//! alice -> server   hi|nobody              server -> alice: error: no user named nobody
//! ```
//!
//! ## A thread per client, and one lock
//!
//! This server is the handout's model done right: a thread per client, blocking sockets,
//! and a directory of names shared by all threads. What the handout's version misses:
//!
//! - **the directory is behind a lock** ([`server::Directory`]): two clients registering
//!   the same name at the same moment, or one leaving while another sends to it, would
//!   otherwise corrupt it or let both have the name (direct/4);
//! - **no thread writes on another client's socket**: each client has a writer thread fed
//!   by a bounded queue, so a recipient that stops reading fills its own queue (the sender
//!   is told with an `error:` line) instead of blocking the sender's thread in `send`;
//! - **a stream is not a sequence of messages**: lines are cut from what `recv` returns
//!   ([`crate::line_server::lines`]), so two messages that arrive in one `recv` are two
//!   messages, and one that arrives in pieces is one (direct/3).

pub mod client;
pub mod server;
