//! When a pipe's end is really closed: after every `fork` under way has reached its `exec`.
//!
//! The harness starts many programs at once (eight scenarios, each on its own thread). A
//! `fork` copies every descriptor of the harness into the child, the writing end of
//! another program's stdin included, until the child's `exec` closes it (`O_CLOEXEC`). So
//! when the harness closes a program's stdin, a child forked a moment before may still
//! hold it: the program waits in `read` for an end of file that comes only at that child's
//! `exec`. On a loaded machine the child may wait for the CPU between the two for a long
//! time, and the program was taken for blocked for good in the meantime (seen in CI).
//!
//! So every start holds [`while_starting`] from before its `fork` until `spawn` returns
//! (after the `exec`: std's `spawn` waits for it), and a closer calls
//! [`after_starts_under_way`] after closing, before it says the end is closed.

use std::sync::{RwLock, RwLockReadGuard};

/// Read: a start under way. Write: waiting for those under way to end.
static STARTS: RwLock<()> = RwLock::new(());

/// Held while a child is started (from before `fork` until after `exec`).
pub fn while_starting() -> RwLockReadGuard<'static, ()> {
    STARTS
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `command` started under [`while_starting`]: every child the harness starts while
/// programs run (a browser, a database server, `ip`) must be, or its `fork` can hold a
/// program's stdin open past the moment the harness closed it.
pub fn spawn(command: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    let _starting = while_starting();
    command.spawn()
}

/// [`spawn`], then its whole output (stdout and stderr captured, as `Command::output`),
/// waited for without holding up anyone's close.
pub fn output(command: &mut std::process::Command) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn(command)?.wait_with_output()
}

/// [`spawn`] for tokio's commands.
pub fn spawn_tokio(
    command: &mut tokio::process::Command,
) -> std::io::Result<tokio::process::Child> {
    let _starting = while_starting();
    command.spawn()
}

/// Returns once every start under way when it was called has ended: a descriptor closed
/// before the call is then held by no child of the harness.
pub fn after_starts_under_way() {
    drop(
        STARTS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closer_waits_for_a_start_under_way() {
        let starting = while_starting();
        let (done_sender, done) = std::sync::mpsc::channel();
        let closer = std::thread::spawn(move || {
            after_starts_under_way();
            done_sender.send(()).unwrap();
        });
        // The closer cannot be done while the start is under way.
        assert!(done.try_recv().is_err());
        drop(starting);
        done.recv().unwrap();
        closer.join().unwrap();
    }
}
