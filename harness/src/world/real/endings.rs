//! A wake-up for a scenario's waiting loops when something of one of its real programs
//! ends: its stdout or stderr reaches its end (the thread copying it read the pipe's end),
//! or its exit is known (its `sandbox-init` reported).
//!
//! The loops that wait for what a program did or printed (a step that needs the whole of a
//! stream, a connection it tried, the check of a crash's traceback, the scenario's end
//! draining what programs printed) look, then pause for 10 ms and look again. The end
//! usually comes a moment after the look, so the pause was most of the harness's own time
//! per scenario: a client that exits at once cost a pause or two after its exit.
//! [`Endings::pause`] ends as soon as anything of the scenario's programs ends instead.
//! An end between a look and the pause's start is kept (the wake-up's one stored permit),
//! so the next pause ends at once: that race was the common case, a client that exits
//! while the step looks, and it cost most scenarios a full pause. The price is a pause
//! that may end early once for an end its loop already saw: the loop looks again, nothing
//! more.
//!
//! Each scenario has its own (eight scenarios at once do not wake each other: measured, a
//! wake-up shared by the whole process made the good sample 4% slower), and the simulated
//! world none: its programs' ends are its own events.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// One scenario's wake-up, shared with the threads that watch its programs.
#[derive(Debug, Clone, Default)]
pub struct Endings(Arc<Notify>);

impl Endings {
    /// Something of a program ended: every loop paused in [`Endings::pause`] looks again,
    /// and the next pause to begin ends at once (`notify_one` stores a permit when nobody
    /// waits any more: the waiters were all woken first).
    pub fn announce(&self) {
        self.0.notify_waiters();
        self.0.notify_one();
    }

    /// Pauses for `within` at most, less if something of a program ends meanwhile.
    pub async fn pause(&self, within: Duration) {
        let _ = tokio::time::timeout(within, self.0.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An end announced while a loop pauses ends its pause at once; another scenario's end
    /// does not, nor does nothing.
    #[tokio::test]
    async fn an_end_ends_the_pause_and_nothing_else_does() {
        let ours = Endings::default();
        let theirs = Endings::default();
        let paused = tokio::spawn({
            let ours = ours.clone();
            async move {
                let started = std::time::Instant::now();
                ours.pause(Duration::from_secs(30)).await;
                started.elapsed()
            }
        });
        let waited = loop {
            theirs.announce();
            ours.announce();
            if paused.is_finished() {
                break paused.await.unwrap();
            }
            tokio::task::yield_now().await;
        };
        assert!(waited < Duration::from_secs(30), "{waited:?}");
        let quiet = Endings::default();
        let started = std::time::Instant::now();
        let other = tokio::spawn({
            let theirs = theirs.clone();
            async move { theirs.announce() }
        });
        quiet.pause(Duration::from_millis(20)).await;
        other.await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    /// An end announced before the pause begins (the program exited while the loop looked)
    /// ends the next pause at once, and that pause only.
    #[tokio::test]
    async fn an_end_between_the_look_and_the_pause_is_not_lost() {
        let ours = Endings::default();
        ours.announce();
        ours.announce();
        let started = std::time::Instant::now();
        ours.pause(Duration::from_secs(30)).await;
        assert!(started.elapsed() < Duration::from_secs(30));
        let started = std::time::Instant::now();
        ours.pause(Duration::from_millis(20)).await;
        assert!(started.elapsed() >= Duration::from_millis(20));
    }
}
