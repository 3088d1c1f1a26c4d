//! The small internet inside every scenario (the network side of DESIGN.md's "The world a
//! program sees").
//!
//! A student's client hard-codes where it connects: `serverName = 'servername'`,
//! `smtp.gmail.com:587`, a lab machine's address. Inside a scenario's network namespace the
//! harness makes all of these lead to itself, and nothing lead anywhere else:
//!
//! - [`routes`]: every IPv4 and IPv6 address is local, so a connect to any address reaches
//!   the harness's socket on that port (and nothing can leave: there is no other
//!   interface);
//! - the DNS pack (`crate::peers::dns`) answers every name with the loopback, on port 53;
//! - `sandbox::resolver_files`: the files that point a program's resolver at it (`/etc/resolv.conf`,
//!   `/etc/hosts`), for the sandbox's file view to put in place;
//! - the stand-in (`crate::peers::stand_in`) serves the task's well-known ports (25, 587,
//!   80) and passes what comes on to the scenario's peer;
//! - the test CA (`crate::tls`) signs a certificate for whatever name a client asks for.

pub use harness_machine::local_routes as routes;

pub use harness_machine::local_routes::add_local_routes;
pub use sandbox::resolver_files;
