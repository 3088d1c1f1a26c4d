//! # `message`: a sequential message server and its client
//!
//! Reading list: the handout (`shared/seeds/000_*.txt`, main assignment) and its contract,
//! SPEC section `message`, clauses `message/1`–`message/9`.
//!
//! The handout, in short:
//!
//! - The **server** (`message-server PORT`) prints on stdout the text each client sends
//!   during its connection, and nothing else: no debug lines, no banners. It serves one
//!   client at a time, but clients that connect meanwhile are queued, not refused.
//! - The **client** (`message-client HOST PORT < FILE`) reads its input, sends it, and exits.
//! - Both use small fixed buffers (4096 bytes) whatever the size of the message: the input
//!   may be arbitrarily large.
//! - Socket calls may move fewer bytes than asked. A `recv` returns whatever has arrived so
//!   far, and a `send` may accept only part of the buffer: every read and every write loops.
//!
//! On the wire there is no framing at all: a message is every byte the client sends
//! between connecting and closing its side of the connection.
//!
//! ```text
//! client                         server
//!   | ---- connect -------------->  |  accept (the next queued client)
//!   | ---- bytes ... ------------>  |  recv, write to stdout, recv, ... (any slicing)
//!   | ---- FIN (shutdown write) ->  |  recv returns 0: the message is complete
//!   |                               |  close, accept the next client
//! ```

mod client;
mod server;

pub use client::send_message;
pub use server::{ClientOutcome, serve, serve_one};
