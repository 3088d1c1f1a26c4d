//! What the task binaries share: how they fail.
//!
//! SPEC conventions: stdout is data, stderr is diagnostics. Errors (cannot bind, cannot
//! connect) go to stderr with a non-zero exit status; bad arguments are reported by clap
//! with exit status 2.

use std::fmt::Display;
use std::process::ExitCode;

/// Exit status for a failure of the network (cannot bind, cannot connect, I/O error).
pub const EXIT_NETWORK_ERROR: u8 = 1;

/// Prints `program: context: error` on stderr and returns the network-error exit code.
pub fn fail(program: &str, context: impl Display, error: impl Display) -> ExitCode {
    eprintln!("{program}: {context}: {error}");
    ExitCode::from(EXIT_NETWORK_ERROR)
}

/// A single-threaded tokio runtime: every lab program here serves one thing at a time or
/// multiplexes on one thread, and a small runtime keeps memory low and predictable.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime")
}
