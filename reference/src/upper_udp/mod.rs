//! # `upper-udp`: an uppercase converter over UDP
//!
//! Reading list: the handouts (001, task 1; 003, Kurose & Ross's `UDPServer.py` /
//! `UDPClient.py`) and their contract, `scenarios/SPEC.md#upper-tcp-upper-udp`, clauses
//! `upper/1`, `upper/2` and `upper/4`–`upper/6`.
//!
//! The handout, in short:
//!
//! - The **client** (`upper-udp-client HOST PORT`) reads a line from the keyboard (stdin),
//!   sends it to the server in one datagram, and prints the datagram that comes back.
//! - The **server** (`upper-udp-server PORT`) answers every datagram with the same bytes,
//!   lowercase ASCII letters made uppercase, sent back to the address it came from. Only
//!   `a`–`z` change (`upper/1`).
//!
//! UDP is not TCP: there is no connection, so nothing to accept and nothing to close; the
//! server answers whoever writes to it, one datagram at a time, and that is how it serves
//! many clients (`upper/2`). A datagram arrives whole or not at all (`upper/4`), so no
//! loop gathers pieces; instead, a datagram can be lost, and the client must not wait for
//! its reply forever (`upper/5`).
//!
//! What the handout's skeleton gets wrong, and this reference does instead:
//!
//! - `recvfrom(2048)`: a longer datagram is cut, and the rest is lost for good. Both sides
//!   receive into [`DATAGRAM_BUFFER_SIZE`](crate::DATAGRAM_BUFFER_SIZE) bytes, more than
//!   any datagram.
//! - The client's `recvfrom` waits forever when the request or the reply is lost (or when
//!   no server runs: the handout's question "what happens if you run the client before
//!   the server?"). This client gives up after one second ([`REPLY_TIMEOUT`]).
//!
//! ```text
//! client (port chosen by the kernel)        server (PORT)
//!   | ---- "Hello é" (one datagram) ------>   |  recvfrom: the bytes and the sender
//!   |  <-- "HELLO é" (to the sender) -------  |  sendto the sender's address
//!   |  print "HELLO é\n", exit 0              |  wait for the next datagram
//!   |  (nothing within 1 s: stderr, exit 1)   |
//! ```

mod client;
mod server;

pub use client::{REPLY_TIMEOUT, client_main};
pub use server::{serve, server_main};
