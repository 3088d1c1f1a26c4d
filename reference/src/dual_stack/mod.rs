//! # `dual-stack`: a protocol-independent echo server and client
//!
//! Its contract: `scenarios/SPEC.md#dual-stack`, clauses `dual/1`–`dual/2`.
//!
//! The handout asks to "revise the echo client and server to support both IPv4 and
//! IPv6". Code written for IPv4 names the family everywhere: `socket(AF_INET, ...)`,
//! `sockaddr_in`, `"0.0.0.0"`. Protocol-independent code lets the system choose:
//!
//! - **the server** listens on one IPv6 socket with `IPV6_V6ONLY` turned off: it takes
//!   IPv6 clients, and IPv4 clients too, which it sees as IPv4-mapped addresses
//!   (`::ffff:127.0.0.1`). One socket, one port, both families ([`server`]);
//! - **the client** asks the resolver for every address of the host (`getaddrinfo` with
//!   any family, what `ToSocketAddrs` does) and tries each in turn until one connects: the
//!   same code reaches `127.0.0.1`, `::1` or a name with both ([`client`]).
//!
//! The echo itself: the server sends back every byte it receives, until the client closes;
//! the client sends stdin a line at a time and prints each line that comes back.

pub mod client;
pub mod server;
