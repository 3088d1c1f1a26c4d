//! Slice plans: how a peer cuts a stream into writes (or reads), and how long it waits
//! between them.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// A number or an inclusive range `[min, max]`, drawn from the seeded generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Range {
    /// Always this value.
    Exactly(u64),
    /// Uniformly drawn from `[min, max]`.
    Between([u64; 2]),
}

impl Range {
    fn bounds(self) -> (u64, u64) {
        match self {
            Range::Exactly(value) => (value, value),
            Range::Between([low, high]) => (low.min(high), low.max(high)),
        }
    }

    fn draw(self, rng: &mut ChaCha8Rng) -> u64 {
        let (low, high) = self.bounds();
        if low == high {
            low
        } else {
            rng.random_range(low..=high)
        }
    }
}

/// How to slice a stream: slice sizes in bytes and gaps between slices in milliseconds.
///
/// In a scenario file: `slices = { size = 1, gap_ms = 1 }` or
/// `slices = { size = [1, 64], gap_ms = [0, 3] }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlicePlan {
    /// Bytes per write (or read).
    pub size: Range,
    /// Pause after each slice.
    #[serde(default = "no_gap")]
    pub gap_ms: Range,
}

fn no_gap() -> Range {
    Range::Exactly(0)
}

// The largest write a peer makes when no plan slices the stream: part of the run's record,
// since the reports tell writes cut on purpose from whole ones by it.
use run_record::wire::WHOLE_WRITE;
// The stable hash behind every seed derived from a name (the captures use it too).
pub use run_record::hash::fnv1a;

impl SlicePlan {
    /// No slicing: writes as large as [`WHOLE_WRITE`], no pauses.
    pub const WHOLE: SlicePlan = SlicePlan {
        size: Range::Exactly(WHOLE_WRITE),
        gap_ms: Range::Exactly(0),
    };

    /// Whether this plan cuts streams into pieces (and so wants `TCP_NODELAY`).
    pub fn is_sliced(&self) -> bool {
        *self != Self::WHOLE
    }

    /// Checks the plan makes sense: sizes of at least one byte, at most 1 MiB, gaps of at
    /// most 10 s.
    pub fn validate(&self) -> Result<(), String> {
        let (low, high) = self.size.bounds();
        if low == 0 {
            return Err("slice size must be at least 1 byte".into());
        }
        if high > 1 << 20 {
            return Err("slice size must be at most 1048576 bytes".into());
        }
        if self.gap_ms.bounds().1 > 10_000 {
            return Err("gap_ms must be at most 10000".into());
        }
        Ok(())
    }

    /// A generator of slice sizes and gaps for one stream, seeded by the run's seed and
    /// the stream's name, so two peers of one scenario get different but replayable plans.
    pub fn slicer(&self, seed: u64, stream_name: &str) -> Slicer {
        Slicer {
            plan: *self,
            rng: ChaCha8Rng::seed_from_u64(seed ^ fnv1a(stream_name.as_bytes())),
        }
    }

    /// A short description for logs: `1-byte slices, 1 ms apart`.
    pub fn describe(&self) -> String {
        if !self.is_sliced() {
            return "whole writes".into();
        }
        let size = match self.size.bounds() {
            (1, 1) => "1-byte slices".to_string(),
            (low, high) if low == high => format!("{low}-byte slices"),
            (low, high) => format!("slices of {low}-{high} bytes"),
        };
        match self.gap_ms.bounds() {
            (0, 0) => size,
            (low, high) if low == high => format!("{size}, {low} ms apart"),
            (low, high) => format!("{size}, {low}-{high} ms apart"),
        }
    }
}

/// Draws the sizes and gaps of one stream's slices.
#[derive(Debug, Clone)]
pub struct Slicer {
    plan: SlicePlan,
    rng: ChaCha8Rng,
}

impl Slicer {
    /// Whether its plan cuts streams into pieces (see [`SlicePlan::is_sliced`]).
    pub fn is_sliced(&self) -> bool {
        self.plan.is_sliced()
    }

    /// Size of the next slice, in bytes (at least 1).
    pub fn next_size(&mut self) -> usize {
        self.plan.size.draw(&mut self.rng).max(1) as usize
    }

    /// Pause after the slice just moved.
    pub fn next_gap(&mut self) -> Duration {
        Duration::from_millis(self.plan.gap_ms.draw(&mut self.rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(plan: SlicePlan, seed: u64) -> Vec<usize> {
        let mut slicer = plan.slicer(seed, "c1");
        (0..32).map(|_| slicer.next_size()).collect()
    }

    #[test]
    fn same_seed_gives_the_same_plan() {
        let plan = SlicePlan {
            size: Range::Between([1, 64]),
            gap_ms: Range::Exactly(0),
        };
        assert_eq!(sizes(plan, 7), sizes(plan, 7));
    }

    #[test]
    fn different_seeds_give_different_plans() {
        let plan = SlicePlan {
            size: Range::Between([1, 64]),
            gap_ms: Range::Exactly(0),
        };
        assert_ne!(sizes(plan, 7), sizes(plan, 8));
    }

    #[test]
    fn fixed_size_is_always_that_size() {
        let plan = SlicePlan {
            size: Range::Exactly(1),
            gap_ms: Range::Exactly(1),
        };
        assert!(sizes(plan, 3).iter().all(|size| *size == 1));
        assert_eq!(plan.describe(), "1-byte slices, 1 ms apart");
    }

    #[test]
    fn zero_byte_slices_are_rejected() {
        let plan = SlicePlan {
            size: Range::Between([0, 4]),
            gap_ms: Range::Exactly(0),
        };
        assert!(plan.validate().is_err());
    }
}
