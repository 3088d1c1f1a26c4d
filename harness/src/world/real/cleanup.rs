//! Every child process group the harness started, so none outlives it.
//!
//! Each child is the leader of its own process group, so killing the group also kills
//! whatever the child forked. Groups are killed when their handle is dropped (end of a
//! scenario, or unwinding from a panic), and all at once on Ctrl-C or SIGTERM, which also
//! remove the run's temporary folders ([`crate::temporary`]).
//!
//! A harness killed with SIGKILL runs none of this: every program started through
//! `sandbox-init` (the throw-away MariaDB too) dies with it, `sandbox-init` watching the
//! harness (a pidfd: Linux 5.3); a server started without `sandbox-init` (a machine without it) is started by
//! [`spawn_lasting`], and dies with it through the kernel's parent-death signal.

use std::collections::BTreeSet;
use std::io;
use std::process::{Child, Command};
use std::sync::{Mutex, Once, OnceLock, mpsc};

static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Records a new process group.
pub fn register(group: i32) {
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(group);
}

/// Kills a process group (SIGKILL) and forgets it.
pub fn kill_group(group: i32) {
    // A group that is already gone: nothing to do.
    if let Some(group) = rustix::process::Pid::from_raw(group) {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    LIVE_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .remove(&group);
}

/// Kills every live process group.
pub fn kill_all() {
    let groups: Vec<i32> = LIVE_GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .copied()
        .collect();
    for group in groups {
        kill_group(group);
    }
    // What left its group (a daemon), where no PID namespace ends it.
    sandbox::end_every_program();
}

/// Installs the Ctrl-C/SIGTERM handler and the panic hook that kill every child. Called
/// once by the command-line program (a library user decides for itself).
pub fn install_hooks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            kill_all();
            previous(info);
        }));
        let handler = ctrlc::set_handler(|| {
            kill_all();
            crate::temporary::remove_all();
            eprintln!(
                "\ninterrupted: every program the harness started was killed, its temporary folders removed"
            );
            std::process::exit(130);
        });
        if let Err(error) = handler {
            eprintln!("warning: cannot install the Ctrl-C handler: {error}");
        }
    });
}

/// Has `command`'s process killed (SIGKILL) by the kernel when the thread that starts it
/// ends, the harness's end included, however it ends (`PR_SET_PDEATHSIG`). Only for a
/// command started by a thread that lives at least as long as the process should: one
/// that waits for it (`output`), or [`spawn_lasting`]'s. The setting is lost where the
/// process changes its user or executes a setuid program.
pub fn dies_with_its_starter(command: &mut Command) {
    harness_machine::child_setup::dies_with_its_starter(command, std::process::id() as libc::pid_t);
}

/// One start for [`spawn_lasting`]'s thread, and where its child goes.
type Start = (Command, mpsc::Sender<io::Result<Child>>);

/// Starts `command` (through [`super::spawning::spawn`]) from a thread that lives as long
/// as the process, its process killed when the harness ends ([`dies_with_its_starter`]).
/// The parent-death signal follows the thread that forked, not the process: a server
/// started from a scenario's preparation thread would be killed as that thread ends, the
/// moment it is ready.
pub fn spawn_lasting(mut command: Command) -> io::Result<Child> {
    static STARTER: OnceLock<mpsc::Sender<Start>> = OnceLock::new();
    let starter = STARTER.get_or_init(|| {
        let (sender, starts) = mpsc::channel::<Start>();
        // The sender lives in this static: the loop never ends, nor the thread. If the
        // thread cannot be made, its receiver goes with it and every start below fails.
        let _ = std::thread::Builder::new()
            .name("lasting-starter".into())
            .spawn(move || {
                for (mut command, reply) in starts {
                    let _ = reply.send(super::spawning::spawn(&mut command));
                }
            });
        sender
    });
    dies_with_its_starter(&mut command);
    let (reply, child) = mpsc::channel();
    let unstarted = || io::Error::other("the harness's thread that starts servers is not running");
    starter.send((command, reply)).map_err(|_| unstarted())?;
    child.recv().map_err(|_| unstarted())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lasting_child_outlives_the_thread_that_asked_for_it() {
        let mut child = std::thread::spawn(|| {
            let mut command = Command::new("cat");
            command.stdin(std::process::Stdio::piped());
            spawn_lasting(command).unwrap()
        })
        .join()
        .unwrap();
        // The thread that asked has ended: the child ends when its stdin closes, not by
        // a signal.
        drop(child.stdin.take());
        let status = child.wait().unwrap();
        assert!(status.success(), "{status}");
    }

    #[test]
    fn a_child_dies_with_the_thread_that_started_it() {
        let mut command = Command::new("cat");
        command.stdin(std::process::Stdio::piped());
        dies_with_its_starter(&mut command);
        let mut child = std::thread::spawn(move || command.spawn().unwrap())
            .join()
            .unwrap();
        // Its starter thread has ended: the kernel killed it, stdin still open.
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    }
}
