//! # `mx-lookup`: the mail servers of an address
//!
//! Reading list: the handout (000, item \[25\], "find the mail servers of an e-mail
//! address", written there with `dnspython`) and its contract,
//! `scenarios/SPEC.md#mx-lookup`, clauses `mx/1`–`mx/3`. For DNS: RFC 1035 §4.1 (the message: a header, then
//! the question, answer, authority and additional sections), §4.2.1 (UDP: one datagram
//! each way, at most 512 bytes unless EDNS says more; a longer answer comes with the TC
//! bit set), §4.2.2 (TCP: each message preceded by its length in two bytes), §3.3.9 (the
//! MX record: a preference and a host name); RFC 7766 (a client must be able to ask again
//! over TCP); RFC 5321 §5.1 (a domain with no MX record receives mail at its own address:
//! the "implicit MX"); RFC 7505 (the null MX, `0 .`: this domain takes no mail).
//!
//! ```text
//! mx-lookup alice@example.com            DNS server (resolv.conf's, or --dns HOST:PORT)
//!   | ---- UDP: id 4711, MX example.com? ------------>  |
//!   |  <-- UDP: id 4711, TC (the answer did not fit) --  |  flag "truncated": ask again
//!   | ==== TCP connect ===============================>  |
//!   | ---- 00 1d | id 4712, MX example.com? ---------->  |  each TCP message after its
//!   |  <-- 04 b2 | id 4712, 10 mx1.example.com. ... ---  |  length (two bytes, big-endian)
//!   | ---- UDP: A mx1.example.com? ------------------->  |  then each host's addresses
//!   |  <-- UDP: 192.0.2.25 ----------------------------  |
//!   | ---- UDP: AAAA mx1.example.com? ---------------->  |
//!   |  <-- UDP: 2001:db8::25 --------------------------  |
//! stdout: "10 mx1.example.com. 192.0.2.25 2001:db8::25"
//! ```
//!
//! What a first DNS client usually gets wrong, and this reference does instead:
//!
//! - Reading the answer with one `recvfrom(512)` and trusting it: a datagram from anyone
//!   (an old answer, another program) is taken for the reply. Here an answer counts only
//!   if it comes from the server asked, carries the question's id and asks the same
//!   question ([`resolver`]).
//! - Ignoring the TC bit: a large MX set comes back empty or cut over UDP, and the program
//!   prints fewer mail servers than the domain has, or none. Here a truncated answer is
//!   asked again over TCP, whose replies have no size limit (SPEC `mx/3`).
//! - Reading a TCP reply with one `recv`: it may hold part of the message. Here the two
//!   length bytes are read, then exactly that many bytes (`read_exact`).
//! - Waiting forever: UDP loses datagrams and a server may never answer. Here a question
//!   is sent again after [`resolver::RESEND_AFTER`] and given up after
//!   [`resolver::ANSWER_TIMEOUT`] in all, with a message on stderr.
//! - Treating "no MX record" as "no mail server": RFC 5321 §5.1 says the domain's own
//!   addresses are then its mail host (printed with preference 0); and a null MX means the
//!   domain says it takes no mail, which is an answer, not an error (SPEC `mx/2`).
//! - Sorting preferences as text (`"10" < "5"`): here they are numbers, ties by name.
//!
//! ## Layout
//!
//! - `client`: the program: arguments, which server to ask, the lookups in order, the
//!   lines printed.
//! - [`resolver`]: one question to one server over UDP, again over TCP when cut; and the
//!   system's server, from `/etc/resolv.conf`.
//!
//! The DNS messages themselves are built and read by `hickory-proto` (name compression,
//! record formats): the lab is the conversation around them, which is written out here.

mod client;
pub mod resolver;

pub use client::{MailHosts, client_main, mail_hosts};
