//! What the harness's peers still have to do without waiting for a program.
//!
//! A peer that holds bytes back (a pause between slices, a reply delayed on purpose, a
//! late answer to a ping) will act later by itself: until it has, the programs it talks to
//! may still be woken, and a waiting step must not conclude that nothing can change
//! (`crate::engine::stillness`). Such a peer holds a [`Held`] for as long as it has
//! something to do; a peer that waits for a program (reading, accepting) holds none.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The count of actions under way, shared by every peer of a scenario.
#[derive(Debug, Clone, Default)]
pub struct Pending(Arc<AtomicUsize>);

impl Pending {
    /// Counts one action under way until the returned [`Held`] is dropped.
    pub fn hold(&self) -> Held {
        self.0.fetch_add(1, Ordering::AcqRel);
        Held(Arc::clone(&self.0))
    }

    /// Whether no peer has anything under way.
    pub fn none(&self) -> bool {
        self.0.load(Ordering::Acquire) == 0
    }
}

/// One action under way; dropping it ends it.
#[derive(Debug)]
#[must_use = "the action is under way only while this is held"]
pub struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_counts_until_its_hold_is_dropped() {
        let pending = Pending::default();
        assert!(pending.none());
        let first = pending.hold();
        let second = pending.clone().hold();
        drop(first);
        assert!(!pending.none());
        drop(second);
        assert!(pending.none());
    }
}
