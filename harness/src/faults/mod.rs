//! What goes wrong on purpose.
//!
//! On loopback a naive single `recv` gets a whole 20 KB message, so a bug that breaks on a
//! real network passes. The harness makes short reads happen: its peers write in slices,
//! with `TCP_NODELAY` and a gap between slices (without the gap the kernel coalesces the
//! slices again), and read in small pieces to fill the other side's buffers. Every choice
//! comes from a seeded generator, so a failure replays with `--seed N`.
//!
//! In the simulated world the reference's own streams are wrapped in [`ShortIo`], which
//! makes its reads and writes short (and its reads gather several writes), since turmoil
//! never does either by itself, and its UDP sockets in [`FaultyDatagrams`] (loss,
//! duplication, reordering).
//!
//! On real sockets, what only the program itself can do (its own `send` returning short)
//! is done inside it by the `short-calls` library, loaded with `LD_PRELOAD` into the
//! programs a scenario's `start` step asks for ([`short_calls`]).

mod datagrams;
pub mod short_calls;
mod short_io;
mod slice_plan;

pub use datagrams::{DatagramPlan, FaultyDatagrams};
pub use short_io::ShortIo;

pub use slice_plan::{Range, SlicePlan, Slicer, fnv1a};
