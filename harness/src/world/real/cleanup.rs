//! Every child process group the harness started, so none outlives it.
//!
//! Each child is the leader of its own process group, so killing the group also kills
//! whatever the child forked. Groups are killed when their handle is dropped (end of a
//! scenario, or unwinding from a panic), and all at once on Ctrl-C or SIGTERM.

use std::collections::BTreeSet;
use std::sync::{Mutex, Once};

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
    // SAFETY: killpg only sends a signal; a group that is already gone gives ESRCH.
    unsafe {
        libc::killpg(group, libc::SIGKILL);
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
            eprintln!("\ninterrupted: every program the harness started was killed");
            std::process::exit(130);
        });
        if let Err(error) = handler {
            eprintln!("warning: cannot install the Ctrl-C handler: {error}");
        }
    });
}
