//! A step's deadline (`within_ms`), counted in the time the programs had to answer.
//!
//! "An `error:` line within a second" judges the program, not the machine. On a busy
//! machine (a platform grading a class at once, a CI runner building beside its tests) a
//! correct server can be kept off the processor for longer than that. When the deadline
//! comes, the time the programs' threads waited for a processor since the step began is
//! added to it ([`crate::world::real::processor_wait`], which says why the harness's own
//! waits are not), and the wait goes on. A program slow by itself (computing, sleeping,
//! blocked) waits for no processor, gains nothing, and fails at the deadline as written.
//! The deadline grows at most to twice its length, and the time added is said in the
//! failure, so that a report never hides it.

use super::Stillness;
use crate::world::real::processor_wait::ProcessorWaits;
use std::time::Duration;
use tokio::time::Instant;

/// A deadline started now, for `within`.
#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    started: Instant,
    within: Duration,
    /// The programs' processor waits when it started.
    at_start: ProcessorWaits,
    /// What has been added for those waits so far (at most `within`).
    added: Duration,
}

impl Deadline {
    /// A deadline `within` from now, for the programs `context` runs.
    pub(crate) fn start<C: Stillness + ?Sized>(context: &C, within: Duration) -> Self {
        Self {
            started: Instant::now(),
            within,
            at_start: context.processor_waits(),
            added: Duration::ZERO,
        }
    }

    /// Whether it has passed: once the current end has come, the time the programs have
    /// waited for a processor since the start moves the end back, and it has passed only
    /// when no more such time has been found.
    pub(crate) fn passed<C: Stillness + ?Sized>(&mut self, context: &C) -> bool {
        if Instant::now() < self.end() {
            return false;
        }
        let waited = context
            .processor_waits()
            .since(&self.at_start)
            .min(self.within);
        if waited > self.added {
            self.added = waited;
        }
        Instant::now() >= self.end()
    }

    /// When it ends, as far as is known now.
    pub(crate) fn end(&self) -> Instant {
        self.started + self.within + self.added
    }

    /// How long until [`Self::end`].
    pub(crate) fn left(&self) -> Duration {
        self.end().saturating_duration_since(Instant::now())
    }

    /// `within 1000 ms`, with the time added if any: `within 1000 ms (and 240 ms more, the
    /// time the programs waited for a processor)`.
    pub(crate) fn describe(&self) -> String {
        let within = format!("within {} ms", self.within.as_millis());
        if self.added.as_millis() == 0 {
            within
        } else {
            format!(
                "{within} (and {} ms more, the time the programs waited for a processor)",
                self.added.as_millis()
            )
        }
    }

    /// `after 1000 ms`, with the time added if any.
    pub(crate) fn describe_after(&self) -> String {
        self.describe().replacen("within", "after", 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Programs that never wait for a processor, or always do.
    struct Machine {
        waits: std::sync::Mutex<Vec<ProcessorWaits>>,
    }

    impl Stillness for Machine {
        fn blocked_for_good(&self) -> Option<String> {
            None
        }
        fn processor_waits(&self) -> ProcessorWaits {
            let mut waits = self.waits.lock().unwrap();
            if waits.len() > 1 {
                waits.remove(0)
            } else {
                waits[0].clone()
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_without_processor_waits_ends_on_time() {
        let machine = Machine {
            waits: std::sync::Mutex::new(vec![ProcessorWaits::default()]),
        };
        let mut deadline = Deadline::start(&machine, Duration::from_millis(1000));
        tokio::time::sleep(Duration::from_millis(999)).await;
        assert!(!deadline.passed(&machine));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(deadline.passed(&machine));
        assert_eq!(deadline.describe(), "within 1000 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn time_spent_waiting_for_a_processor_is_added_at_most_once_over() {
        let waited = |ms| ProcessorWaits::for_tests(ms);
        let machine = Machine {
            waits: std::sync::Mutex::new(vec![waited(0), waited(300), waited(5_000)]),
        };
        let mut deadline = Deadline::start(&machine, Duration::from_millis(1000));
        tokio::time::sleep(Duration::from_millis(1000)).await;
        // 300 ms waited: the end moves to 1300 ms.
        assert!(!deadline.passed(&machine));
        assert_eq!(deadline.left(), Duration::from_millis(300));
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Then 5 s: never more than the deadline's own length.
        assert!(!deadline.passed(&machine));
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(deadline.passed(&machine));
        assert_eq!(
            deadline.describe_after(),
            "after 1000 ms (and 1000 ms more, the time the programs waited for a processor)"
        );
    }
}
