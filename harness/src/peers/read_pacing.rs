//! Slices that a program reads one at a time, whatever the load.
//!
//! A slice plan (`slices = { size = 1, gap_ms = 2 }`) is there to give a program's `recv`
//! less than it asked for: a server that takes one `recv` for the whole line must get `o`
//! alone, not `open sesame`. A pause between slices does that only while the program is
//! quicker than the pause. On a loaded machine (eight scenarios at once beside a build) a
//! Python server may take a second to reach its first `recv`, find every slice already
//! queued, and pass by luck: seen in CI, `password-recv-once` passing password/02.
//!
//! So, after each of the first [`PACED_SLICES`] slices of a connection, the sender also
//! waits until the program has read what was sent (the kernel's queues of the connection
//! are empty, asked by the connection's addresses: [`crate::world::real::sock_diag`]). That is a wait for an event,
//! bounded: a program that does not read (a server busy with another client, one that
//! stopped reading) is waited for [`FIRST_PATIENCE`] on the first slice and
//! [`LATER_PATIENCE`] on the others, and once such a wait runs out, the connection is no
//! longer paced: it costs a scenario one bound per connection at most. The simulated
//! network needs none of this: nothing there is late.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How many slices of a connection are paced: a first `recv` and a few after it are what
/// reading-loop bugs show on; a 10 MB payload in slices must not wait on every one.
const PACED_SLICES: usize = 16;

/// How long the first slice may wait to be read: the program may not have accepted the
/// connection yet, or be starting on a loaded machine.
const FIRST_PATIENCE: Duration = Duration::from_secs(2);

/// How long each later slice may wait to be read.
const LATER_PATIENCE: Duration = Duration::from_millis(250);

/// How often the kernel is asked while waiting.
const LOOK_EVERY: Duration = Duration::from_millis(1);

/// Paces one connection's slices (see the module's comment).
pub(crate) struct ReadPacer {
    /// The connection's local and remote addresses, while it is paced.
    addresses: Option<(SocketAddr, SocketAddr)>,
    /// Slices sent and waited for so far.
    paced: usize,
}

impl ReadPacer {
    /// A pacer for a connection with these addresses, the sender's first (`None`: never
    /// waits).
    pub(crate) fn new(addresses: Option<(SocketAddr, SocketAddr)>) -> ReadPacer {
        ReadPacer {
            addresses,
            paced: 0,
        }
    }

    /// After a slice is written: waits until the program has read everything sent on the
    /// connection, within the bounds above.
    pub(crate) async fn after_slice(&mut self) {
        let Some((local, remote)) = self.addresses else {
            return;
        };
        if self.paced >= PACED_SLICES {
            self.addresses = None;
            return;
        }
        let patience = if self.paced == 0 {
            FIRST_PATIENCE
        } else {
            LATER_PATIENCE
        };
        self.paced += 1;
        let started = Instant::now();
        loop {
            match crate::world::real::readiness::connection_in_flight(local, remote) {
                // Read, or the connection is gone from the tables (closed): nothing to wait for.
                Some(0) | None => return,
                Some(_) => {}
            }
            if started.elapsed() >= patience {
                // The program is not reading this connection now: no more pacing on it.
                self.addresses = None;
                return;
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    }
}
