//! A count of things under way, each counted for as long as its [`Held`] lives: the
//! connections a harness server still serves (`world::backlog`), the actions the harness's
//! peers still have to do by themselves (the transcript's `pending`, see
//! `engine::stillness`). Counted from a clone anywhere; dropping the hold ends the count,
//! however the task holding it ends (finished, failed or aborted).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The count, shared by its clones.
#[derive(Debug, Clone, Default)]
pub struct Tally(Arc<AtomicU64>);

impl Tally {
    /// Counts one more, until the returned [`Held`] is dropped.
    pub fn hold(&self) -> Held {
        self.0.fetch_add(1, Ordering::AcqRel);
        Held(Arc::clone(&self.0))
    }

    /// How many are under way now.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// One of a [`Tally`]'s, while it lives.
#[derive(Debug)]
#[must_use = "it is counted only while this is held"]
pub struct Held(Arc<AtomicU64>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_counts_while_its_hold_lives() {
        let tally = Tally::default();
        let first = tally.hold();
        let second = tally.clone().hold();
        assert_eq!(tally.count(), 2);
        drop(first);
        assert_eq!(tally.count(), 1);
        drop(second);
        assert_eq!(tally.count(), 0);
    }
}
