//! The real world: child processes on loopback.
//!
//! - [`process`]: a child in its own process group and temporary directory, its output
//!   captured to capped files, its exit and peak memory read with `wait4`.
//! - [`start_failure`]: whose a failure to start a child is (a command that does not
//!   exist is the submission's; any other, the harness's).
//! - [`readiness`]: whether a child listens on a port, read from `/proc` (never by
//!   connecting: a probe connection is a client to a sequential server).
//! - [`blocked`]: whether a child's processes are blocked for good, read from `/proc`.
//! - [`processor_wait`]: how long threads waited for a processor, which a step's deadline
//!   does not count against a program.
//! - [`ports`]: a port allocator outside the kernel's ephemeral range.
//! - [`cleanup`]: every live process group, killed at the end, on Ctrl-C and on panic.
//! - [`spawning`]: a closed pipe end is closed once every `fork` under way has reached
//!   its `exec`.
//! - [`internet`]: the small internet inside a scenario's namespace (any address is local,
//!   the resolver's files).
//! - [`redirect`]: without such a namespace, hard-coded ports, addresses and names moved by
//!   the interposed library.

pub mod blocked;
pub mod cleanup;
pub mod endings;
pub mod internet;
pub mod isolation;
pub use harness_machine::net_admin;
pub mod port_claims;
pub mod ports;
pub mod proc_entries;
pub mod process;
pub mod processor_wait;
pub mod readiness;
pub mod redirect;
pub use harness_machine::sock_diag;
pub mod spawning;
pub mod start_failure;
