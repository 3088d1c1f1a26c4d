//! # `chat`: a multiplexed chat room
//!
//! Its contract: `scenarios/SPEC.md#chat`, clauses `chat/1`–`chat/5`.
//!
//! `chat-server PORT` keeps a room; `chat-client HOST PORT NAME` joins it, sends the lines
//! of its stdin and prints the room's lines on stdout.
//!
//! The protocol, one line each way at a time:
//!
//! ```text
//! client -> server   alice                      its name, first
//! server -> alice    * welcome alice: 2 in the room (alice, bob)
//! server -> others   * alice joined (2 in the room)
//! client -> server   hello                      every later line is said to the room
//! server -> others   alice: hello               never back to alice
//! server -> others   * alice left (1 in the room)
//! ```
//!
//! ## How the server holds thousands of clients on one thread
//!
//! A thread per client would cost a stack each (10,000 clients: 10,000 stacks), and a
//! `select` loop that calls a blocking `sendall` for every member stops the whole room the
//! moment one member stops reading: its socket buffer fills, `sendall` waits, and nobody
//! else is served (SPEC chat/4). This server is **readiness-driven** (tokio's tasks over
//! `epoll`: a task runs only when its socket is ready) and gives every member a
//! **bounded outbox**:
//!
//! ```text
//!   reader task (one per member)          writer task (one per member)
//!   line from alice ──► room.say() ──► try_send to each outbox ──► write_all to bob
//!                                       (never waits)               (waits for bob only)
//! ```
//!
//! Saying something puts the line in each other member's outbox (a queue of at most
//! [`OUTBOX_LINES`]) and that member's writer sends it when its socket can take it. A
//! member that reads slower than another talks fills its outbox: the talker then waits
//! for room in it (its next lines are read later: the room moves at the pace of its
//! slowest reader, and memory stays bounded). A member whose writer has written nothing
//! for [`STALL`] while a talker waited has stopped reading: it is dropped from the room
//! (told on the server's stderr), and the room goes on. A line is at most 4 KiB, shared by every outbox it is
//! in (`Arc<str>`).

pub mod client;
pub mod room;
pub mod server;

/// Lines a member's outbox holds; beyond them, the talker waits.
pub const OUTBOX_LINES: usize = 256;

/// How long a talker waits for room in an outbox while its member's writer writes
/// nothing, before the member counts as no longer reading, and is dropped (the server's
/// `--stall-ms` changes it).
pub const STALL: std::time::Duration = std::time::Duration::from_secs(2);
