//! A waiting step stops as soon as nothing can change any more: every program still
//! running is blocked for good, and nothing is on its way to wake one.
//!
//! A server that answered its first client and now sits in `recv` on that connection,
//! while the second client's line waits in the kernel, will not answer within 5 s, nor
//! ever: the step can say so after a fraction of a second. The question has three parts,
//! all of which must hold:
//!
//! - **the programs**: every thread of every process of every running program sleeps in
//!   a call that only a descriptor or another of those threads can end, with nothing
//!   ready ([`crate::world::real::blocked`]);
//! - **the harness**: no peer holds back bytes it will send by itself (a pause between
//!   slices, a delayed reply: `Transcript::pending`), no stdin is still being written,
//!   no stand-in passes connections on (it keeps no count), and the threads copying the
//!   programs' output wait in `read` on empty pipes (what a program printed just before it
//!   blocked may be in the pipe, or in their hands);
//! - **the kernel**: no connection is being opened or closed, no byte is sent and not yet
//!   acknowledged, and no socket of the harness has bytes or connections it has not taken
//!   (`/proc/thread-self/net`: the scenario's own network namespace).
//!
//! It must hold for [`STILL_FOR`] with no program thread running at all (the same count
//! of context switches at every look). The harness's peers run on the scenario's one
//! thread, between the looks: an event that reached a peer before a look has been handled
//! (and its reply sent, or held as pending) by the next.
//!
//! Only the real world can tell; in the simulated one, steps wait as before.

use super::*;
use crate::world::real::blocked::{self, Looked, Snapshot};
use crate::world::real::processor_wait::ProcessorWaits;
use crate::world::real::readiness::{self, TCP_LISTEN};

/// How long everything must stay still, no program thread running, before it is believed.
const STILL_FOR: Duration = Duration::from_millis(100);

/// The least time between two looks (a look reads a few `/proc` files for each thread,
/// and the socket tables): everything is believed still after two to three of them.
const LOOK_EVERY: Duration = Duration::from_millis(50);

/// TCP states of a connection being opened or closed: a packet is on its way.
const TCP_SYN_SENT: u8 = 0x02;
const TCP_SYN_RECV: u8 = 0x03;
const TCP_FIN_WAIT1: u8 = 0x04;
const TCP_LAST_ACK: u8 = 0x09;
const TCP_CLOSING: u8 = 0x0B;

/// What the looks of the current step have seen.
#[derive(Debug, Default)]
pub(super) struct Stillness {
    /// The step they belong to: each step starts over.
    step: usize,
    /// When the last look was taken.
    looked_at: Option<Instant>,
    /// Since when everything has been still, and as it was first seen.
    since: Option<(Instant, Snapshot)>,
}

impl Run<'_> {
    /// Why nothing can change any more (`every program still running is blocked for
    /// good: server waits in accept on ...`), once that has held for [`STILL_FOR`];
    /// `None` while something may, and between looks.
    pub(super) fn blocked_for_good(&self) -> Option<String> {
        let mut still = self
            .stillness
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if still.step != self.step_number {
            *still = Stillness {
                step: self.step_number,
                ..Stillness::default()
            };
        }
        let now = Instant::now();
        if still
            .looked_at
            .is_some_and(|at| now.duration_since(at) < LOOK_EVERY)
        {
            return None;
        }
        still.looked_at = Some(now);
        let Some((snapshot, description)) = self.look_still() else {
            still.since = None;
            return None;
        };
        match &still.since {
            Some((since, first)) if snapshot.unchanged_since(first) => {
                (now.duration_since(*since) >= STILL_FOR).then(|| {
                    format!(
                        "every program still running is blocked for good, and nothing is on \
                         its way to wake it: {description}"
                    )
                })
            }
            _ => {
                still.since = Some((now, snapshot));
                None
            }
        }
    }

    /// How long the running programs' threads have waited for a processor so far (see
    /// [`crate::waiting::Deadline`]).
    pub(super) fn processor_waits(&self) -> ProcessorWaits {
        if !matches!(self.world, World::Real(_)) {
            return ProcessorWaits::default();
        }
        let processes: Vec<i32> = self
            .programs
            .values()
            .filter(|program| program.handle.exit_info().is_none())
            .flat_map(|program| program.handle.processes())
            .collect();
        ProcessorWaits::read(&processes)
    }

    /// One look: the programs' processes, if they are all blocked and nothing else moves,
    /// and what each running program waits in.
    fn look_still(&self) -> Option<(Snapshot, String)> {
        if !matches!(self.world, World::Real(_))
            || self.stand_ins_in_use()
            || self.transcript.pending().count() > 0
        {
            return None;
        }
        let mut looked = Looked::default();
        let mut owners = BTreeMap::new();
        for name in &self.order {
            let handle = &self.programs[name].handle;
            if handle.exit_info().is_some() {
                continue;
            }
            // Ended (or in `exit()`) with its report on its way: only its `sandbox-init`
            // is left, asleep, and would be taken for a program blocked for good.
            if handle.ending() {
                return None;
            }
            let program = handle.threads_to_look_at()?;
            for &pid in &program.processes {
                owners.insert(pid, name.as_str());
            }
            looked.extend(program);
        }
        if looked.processes.is_empty() {
            // Nothing runs: whether more can come is for other rules (`nothing_more_for`).
            return None;
        }
        // A time limit as long as the scenario's cannot end a wait before the scenario
        // ends (the call began after the scenario did).
        let snapshot = blocked::look(&looked, self.scenario.timeout)?;
        if !nothing_in_flight(&snapshot.sockets) {
            return None;
        }
        let mut said: Vec<String> = Vec::new();
        for wait in snapshot.waits.iter().filter(|wait| !wait.helper) {
            let line = format!("{} {wait}", owners.get(&wait.pid).unwrap_or(&"a program"));
            if !said.contains(&line) {
                said.push(line);
            }
        }
        Some((snapshot, said.join("; ")))
    }
}

/// Whether the kernel holds nothing on its way: no connection opening or closing, no byte
/// unacknowledged, and no socket of the harness (any socket the programs do not hold) with
/// bytes or connections it has not taken. `program_sockets`: the programs' socket inodes.
fn nothing_in_flight(program_sockets: &BTreeSet<u64>) -> bool {
    let Some(rows) = readiness::socket_rows(&["tcp", "tcp6", "udp", "udp6"]) else {
        return false;
    };
    rows.iter().all(|row| {
        let moving = row.tcp
            && (matches!(
                row.state,
                TCP_SYN_SENT | TCP_SYN_RECV | TCP_FIN_WAIT1 | TCP_LAST_ACK | TCP_CLOSING
            ) || (row.state != TCP_LISTEN && row.tx_queue > 0));
        let harness_has_unread =
            row.inode != 0 && !program_sockets.contains(&row.inode) && row.rx_queue > 0;
        !moving && !harness_has_unread
    })
}
