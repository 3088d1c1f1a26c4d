//! # Reference implementations of the socket-programming labs
//!
//! One module per task of the lab catalogue (`shared/SPEC.md`), written to be read by
//! students: each module opens with the handout's requirements and every loop says why it
//! loops. The binaries in `src/bin/` are thin: they parse arguments, bind or connect, and
//! call the library, so tests (and the harness's simulated world) can drive the same code.
//!
//! ## Layout
//!
//! - [`net`]: the small network abstraction (bind, accept, connect, datagrams, clock) every
//!   task is written against, so the same code runs on real sockets (tokio) and in a simulated network.
//! - [`message`]: the sequential message server and client (SPEC `message/1`–`message/9`).
//! - [`cli`]: what the programs share: standard streams, argument errors, exit statuses.

pub mod cli;
pub mod message;
pub mod net;

/// Size of every buffer used to move a stream (SPEC: "buffers are small and fixed").
///
/// 4096 bytes is the handout's suggestion: one memory page. Memory use must not grow with
/// the size of the transfer, so no task ever reads a whole message into memory.
pub const BUFFER_SIZE: usize = 4096;
