//! # `udp-pinger`: ping over UDP
//!
//! Reading list: the handout (003, "UDP Pinger", after Kurose & Ross's programming
//! assignment) and its contract, `scenarios/SPEC.md#udp-pinger`, clauses
//! `ping/1`–`ping/4`.
//!
//! The handout, in short:
//!
//! - The **client** (`udp-pinger-client HOST PORT [--count 10]`) sends 10 ping messages to
//!   the server over UDP. For each, it prints the round-trip time (RTT) when the reply
//!   comes back; if no reply comes within one second, it takes the ping as lost and says
//!   so (`ping/1`).
//! - The **server** (`udp-pinger-server PORT [--loss 0.3]`) sends every ping back in
//!   uppercase, except a random fraction it drops on purpose: on a local network nothing
//!   is lost, and the client's timeout would never be tried (`ping/3`).
//!
//! Added by the SPEC *(decided, as the system's `ping` does)*: a summary at the end, with
//! the loss percentage and the minimum, average and maximum RTT (`ping/2`).
//!
//! ```text
//! client                                    server
//!   | -- "Ping 1 1718000000.123456" ------->  |  one datagram; drawn to be answered
//!   |  <-- "PING 1 1718000000.123456" ------  |  the same bytes, a-z made A-Z
//!   |  "Reply from HOST: seq=1 rtt=0.081 ms"  |
//!   | -- "Ping 2 1718000000.123601" ------->  |  drawn to be dropped: no answer
//!   |  ... 1 s on the client's clock ...      |
//!   |  "Request timed out (seq=2)"            |
//!   | -- "Ping 3 ..." --------------------->  |
//! ```
//!
//! The one subtle point is `ping/4`: a reply can arrive *after* its ping timed out (it
//! was slow, not lost). It then arrives while the client waits for the next ping's reply,
//! and must not be taken for it. The sequence number in every reply tells them apart.

mod client;
mod server;

pub use client::{PING_TIMEOUT, Statistics, client_main, is_reply_to, ping};
pub use server::{serve, server_main, should_drop};
