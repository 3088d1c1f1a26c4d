//! A wake-up for the harness's waiting loops when something of a real program ends: its
//! stdout or stderr reaches its end (the thread copying it read the pipe's end), or its exit
//! is known (its `sandbox-init` reported).
//!
//! The loops that wait for such an end (a step that needs the whole of a stream, the check
//! of a crash's traceback, the scenario's end draining what programs printed) look, then
//! pause for 10 ms and look again. The end usually comes a moment after the look, so
//! the pause was most of the harness's own time per scenario: a client that exits at once
//! cost a 10 ms pause or two after its exit. [`pause`] ends as soon as anything ends
//! instead. It is a hint, never a promise: an end between a look and the pause's start is
//! not seen, and the pause runs its full length, as before. Every real program's ends wake
//! every waiting loop (eight scenarios at once see each other's), which then looks again:
//! a look is cheap, and no more frequent than the ends.
//!
//! The simulated world never uses it: its programs' ends are its own events, and a wake-up
//! from a real program of another test would make its replays differ.

use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::Notify;

/// Woken at every end.
static ENDED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Something of a real program ended: every loop paused in [`pause`] looks again.
pub(crate) fn announce() {
    ENDED.notify_waiters();
}

/// Pauses for `within` at most, less if something of a real program ends meanwhile.
pub(crate) async fn pause(within: Duration) {
    let _ = tokio::time::timeout(within, ENDED.notified()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An end announced while a loop pauses ends its pause at once; without one, the pause
    /// runs its length.
    #[tokio::test]
    async fn an_end_ends_the_pause_and_nothing_else_does() {
        let paused = tokio::spawn(async {
            let started = std::time::Instant::now();
            pause(Duration::from_secs(30)).await;
            started.elapsed()
        });
        // Announced until the pause has begun and returned (announcing before it waits is
        // not seen, as the module says): bounded by the test's own deadline.
        let waited = loop {
            announce();
            if paused.is_finished() {
                break paused.await.unwrap();
            }
            tokio::task::yield_now().await;
        };
        assert!(waited < Duration::from_secs(30), "{waited:?}");
        let started = std::time::Instant::now();
        pause(Duration::from_millis(20)).await;
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}
