//! The reference programs that can run on a simulated host, by program name.
//!
//! Each is the very function the reference binary runs (`reference::cli::run`), given the
//! simulated network instead of the real one. A task whose reference is not listed here
//! cannot be simulated, and its scenarios say so.

use std::future::Future;
use std::pin::Pin;

use reference::cli::Stdio;

use super::network::SimNetwork;

/// A started program: its exit status when it ends.
pub type ProgramFuture = Pin<Box<dyn Future<Output = i32>>>;

/// Program names that have a simulated version.
pub const SIMULATED_PROGRAMS: &[&str] = &["message-server", "message-client"];

/// Starts `program` (its name, as `message-server`) with `args` (program name first).
pub fn launch(
    program: &str,
    network: SimNetwork,
    args: Vec<String>,
    stdio: Stdio,
) -> Option<ProgramFuture> {
    let started: ProgramFuture = match program {
        "message-server" => Box::pin(reference::message::server_main(network, args, stdio)),
        "message-client" => Box::pin(reference::message::client_main(network, args, stdio)),
        _ => return None,
    };
    Some(started)
}
