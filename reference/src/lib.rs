//! # Reference implementations of the socket-programming labs
//!
//! One module per task of the lab catalogue (`scenarios/SPEC.md`), written to be read by
//! students: each module opens with the handout's requirements and every loop says why it
//! loops. The binaries in `src/bin/` are thin: they parse arguments, bind or connect, and
//! call the library, so tests (and the harness's simulated world) can drive the same code.
//!
//! ## Layout
//!
//! - [`net`]: the small network abstraction (bind, accept, connect, datagrams, clock) every
//!   task is written against, so the same code runs on real sockets (tokio) and in a simulated network.
//! - [`line`]: reading one line into a bounded buffer (the upper-case converters' input).
//! - [`lines`]: the line reader of the asynchronous line protocols (SMTP, IMAP, POP3):
//!   bounded lines and counted bytes (IMAP literals) from one fixed buffer.
//! - [`tls`]: the clients' TLS: trusted roots (`--ca-file`, `SSL_CERT_FILE`, the
//!   system's) and the configuration (smtp-client, imap-read, pop3-fetch).
//! - [`message`]: the sequential message server and client (SPEC `message/1`–`message/9`).
//! - [`upper_tcp`]: the uppercase converter over TCP, a concurrent server and its client
//!   (SPEC `upper/1`–`upper/3`, `upper/6`).
//! - [`upper_udp`]: the uppercase converter over UDP (SPEC `upper/1`, `upper/2`,
//!   `upper/4`–`upper/6`).
//! - [`udp_pinger`]: the UDP ping server, which loses pings on purpose, and its client
//!   (SPEC `ping/1`–`ping/4`).
//! - [`web_server`]: the HTTP file server, one task per connection, that never serves a
//!   file outside its root (SPEC `web/1`–`web/6`).
//! - [`web_proxy`]: the HTTP proxy, one task per client, that relays the origin's
//!   response unchanged and answers 502 when the origin is down (SPEC `proxy/1`–`proxy/3`).
//! - [`smtp_client`]: the mail client: the SMTP dialogue, dot-stuffing, MIME attachments,
//!   STARTTLS and AUTH PLAIN (SPEC `smtp/1`–`smtp/5`).
//! - [`mail_read`]: what the two mail readers share: the command line, the order of
//!   the work (every number checked before anything is fetched), the MIME decoding and
//!   the output (SPEC `read/1`–`read/4`).
//! - [`imap_read`]: the IMAP reader: tags, literals, STARTTLS, EXAMINE and BODY.PEEK.
//! - [`pop3_fetch`]: the POP3 reader: multi-line answers, dot-unstuffing, STLS, no DELE.
//! - [`ftp_upload`]: the FTP client that stores a file byte for byte: multi-line
//!   replies, `TYPE I`, `EPSV` then `PASV`, the file streamed on the data connection,
//!   `QUIT` always (SPEC `ftp/1`–`ftp/2`).
//! - [`mysql_remote`]: the MySQL client, on the `mysql_async` driver: the handshake
//!   explained, a result set printed as a table, bound parameters, one transaction for
//!   the students (SPEC `sql/1`–`sql/3`).
//! - [`ssh_info`]: the SSH client that prints a remote machine's CPU and memory: the
//!   host key checked against `~/.ssh/known_hosts` before anything is sent, password or
//!   key authentication, two commands over one connection, their exit status checked
//!   (SPEC `ssh/1`–`ssh/2`).
//! - [`smtp_server`]: the mail server, one task per client, that prints each message it
//!   accepts (SPEC `smtpd/1`–`smtpd/2`).
//! - [`dual_stack`]: the protocol-independent echo server (one IPv6 socket with
//!   `IPV6_V6ONLY` off, for both families) and client (every resolved address tried in
//!   turn) (SPEC `dual/1`–`dual/2`).
//! - [`interfaces`]: lists the network interfaces, their state and addresses, from
//!   `getifaddrs` (SPEC `iface/1`).
//! - [`wait_service`]: waits until a TCP service accepts connections, retrying at a
//!   paced rate, with an optional timeout (SPEC `wait/1`–`wait/3`).
//! - [`port_forward`]: the local port forwarder, a task per connection and a pump per
//!   direction that passes a half-close on (SPEC `fwd/1`–`fwd/2`).
//! - [`calc`]: the arithmetic expression server in four concurrency models (one client at
//!   a time, a thread per client, `poll`, a process per client) over one hand-written
//!   parser, never `eval()`, and its client (SPEC `calc/1`–`calc/5`).
//! - [`password`]: the password dialogue, `access granted` or `access denied` per line,
//!   compared in constant time, over a bounded line buffer (SPEC `pass/1`–`pass/2`).
//! - [`echo_plus`]: echo with `download` (files resolved inside a root, symlinks included)
//!   and `run` (no shell, an allow-list), over a length-prefixed answer protocol (SPEC
//!   `echo/1`–`echo/4`).
//! - [`chat`]: the chat room, readiness-driven on one thread, with a bounded outbox per
//!   member so one member that stops reading never stalls the room (SPEC `chat/1`–`chat/5`).
//! - [`direct_chat`]: private messages between named clients, a thread per client and
//!   one lock around the directory of names (SPEC `direct/1`–`direct/4`).
//! - [`line_server`]: the blocking line server those three share (its line buffer
//!   [`line_server::lines`] serves the chats too) (bind, cut a stream into
//!   lines in a fixed buffer, answer line by line, report a failed client).
//! - [`line_client`]: the client of a line-by-line dialogue that `calc-client` and
//!   `password-client` share.
//! - [`xmlrpc`]: the XML-RPC server, a thread per connection: `add`, `multiply`, `pow`,
//!   `sleep`, `system.listMethods`, `system.multicall`, HTTP Basic authentication checked
//!   before anything runs, bodies over 1 MiB refused unread (SPEC `rpc/1`–`rpc/4`).
//! - [`cli`]: what the programs share: standard streams, argument errors, exit statuses.
//!
//! Every parser of network input has a `properties` test module beside it (any input,
//! sliced any way: no panic, no loop, bounded memory, the protocol's own errors), built on
//! `testing`, and a fuzz target in `fuzz/` (`cargo +nightly fuzz run TARGET`).

pub mod calc;
pub mod chat;
pub mod cli;
pub mod direct_chat;
pub mod dual_stack;
pub mod echo_plus;
pub mod ftp_upload;
pub mod imap_read;
pub mod interfaces;
pub mod line;
pub mod line_client;
pub mod line_server;
pub mod lines;
pub mod mail_archive;
pub mod mail_read;
pub mod message;
pub mod mx_lookup;
pub mod mysql_remote;
pub mod net;
pub mod password;
pub mod pop3_fetch;
pub mod port_forward;
pub mod process_stdio;
pub mod smtp_client;
pub mod smtp_server;
pub mod ssh_info;
pub mod tls;
pub mod udp_pinger;
pub mod upper_tcp;
pub mod upper_udp;
pub mod wait_service;
pub mod web_proxy;
pub mod web_server;
pub mod xmlrpc;

#[cfg(test)]
mod testing;

/// Size of every buffer used to move a stream (SPEC: "buffers are small and fixed").
///
/// 4096 bytes is the handout's suggestion: one memory page. Memory use must not grow with
/// the size of the transfer, so no task ever reads a whole message into memory.
pub const BUFFER_SIZE: usize = 4096;

/// The buffer between a program and its stdin or stdout (a file or a pipe, not the
/// network): 16 pieces of [`BUFFER_SIZE`], so that a 100 MB message costs 1,500 reads of
/// stdin instead of 25,000. Every socket call still moves at most [`BUFFER_SIZE`] bytes.
pub const STDIO_BUFFER_SIZE: usize = 16 * BUFFER_SIZE;

/// Size of the buffer every UDP program receives datagrams into: 65536 bytes, more than
/// the largest datagram UDP can carry (65507 bytes of data over IPv4).
///
/// A datagram is received whole or not at all: when it is larger than the buffer, the
/// kernel cuts it to the buffer and throws the rest away (there is no "next read" for the
/// remainder, unlike a stream). The handouts' `recvfrom(2048)` therefore loses the end of
/// any longer message; with this size nothing can be cut (SPEC `upper/4`: a 2048-byte
/// datagram comes back whole).
pub const DATAGRAM_BUFFER_SIZE: usize = 65536;
