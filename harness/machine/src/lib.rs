//! The machine's calls the harness makes on its own side of the sandbox, each behind a safe
//! function: where the harness needs `unsafe` (a system call the standard library does not
//! offer), it lives here, in one crate the harness depends on.
//!
//! - [`beneath`]: a program's files opened beneath its folder, no link followed (`openat2`);
//! - [`sock_diag`]: the kernel's socket tables over netlink (`NETLINK_SOCK_DIAG`);
//! - [`pktinfo`]: datagrams that know the address they were sent to (`IP_PKTINFO`);
//! - [`net_admin`]: `CAP_NET_ADMIN` passed on to the network tools the harness runs;
//! - [`namespaces`]: a user namespace of its own, a network namespace per scenario;
//! - [`local_routes`]: every address local to a scenario's namespace (rtnetlink);
//! - [`child_setup`]: what a child of the harness does between its fork and its `exec`;
//! - [`process_end`]: a function run at the harness's exit, a child's end and peak memory.
//!
//! The sandbox's own calls are the `sandbox` crate's and `sandbox-init`'s.

pub mod beneath;
pub mod child_setup;
pub mod local_routes;
pub mod namespaces;
pub mod net_admin;
pub mod pktinfo;
pub mod process_end;
pub mod sock_diag;
