//! Waiting for what programs do: a step or check that waits looks again every [`POLL`],
//! stops when nothing can change any more ([`Stillness`]), and counts its deadline without
//! the time the programs waited for a processor ([`Deadline`]).
//!
//! Below the steps and the protocol packs alike, since the checks of a pack
//! (`crate::protocols::checks`) wait as the steps do.

mod deadline;

use std::time::Duration;

pub(crate) use deadline::Deadline;

/// How often a waiting step looks again at the bytes it waits for.
pub(crate) const POLL: Duration = Duration::from_millis(10);

/// Whether nothing can change any more: every program still running is blocked for good,
/// and nothing is on its way to wake one (see `crate::engine::stillness`). Steps and
/// checks that wait ask it, and stop waiting when it says why.
pub(crate) trait Stillness {
    /// Why nothing can change any more, if nothing can.
    fn blocked_for_good(&self) -> Option<String>;

    /// How long the programs' threads have waited for a processor so far (see
    /// [`Deadline`]); nothing where that cannot be read (the simulated world).
    fn processor_waits(&self) -> crate::world::real::processor_wait::ProcessorWaits {
        crate::world::real::processor_wait::ProcessorWaits::default()
    }

    /// The scenario's wake-up at its programs' ends, where they are real ones (never in the
    /// simulated world, whose programs' ends are its own events); see [`pause`].
    fn endings(&self) -> Option<crate::world::real::endings::Endings> {
        None
    }
}

/// Pauses a waiting loop between two looks: [`POLL`] at most, less where the scenario's
/// programs are real and one's output or life ends meanwhile (see
/// `crate::world::real::endings`): a step waiting for what a program did before it exited
/// (a connection it tried) looks again at its exit, not up to 10 ms later.
pub(crate) async fn pause(endings: Option<crate::world::real::endings::Endings>) {
    match endings {
        Some(endings) => endings.pause(POLL).await,
        None => tokio::time::sleep(POLL).await,
    }
}

/// Waits, beside something a step or check reads itself, until `within` has passed or
/// nothing can come any more: `within N ms`, or `(why nothing can come)`. For a `biased`
/// `select!` after the reading, which must be polled first: bytes it has read and not
/// yet taken (a second reply in its buffer) are invisible to the look at the programs.
pub(crate) async fn wait_in_vain<C: Stillness + Send + ?Sized>(
    context: &mut C,
    within: Duration,
) -> String {
    let mut deadline = Deadline::start(&*context, within);
    loop {
        if let Some(still) = context.blocked_for_good() {
            return format!("({still})");
        }
        if deadline.passed(&*context) {
            return deadline.describe();
        }
        tokio::time::sleep(POLL).await;
    }
}
