//! A process as `/proc` shows it: the fields of its `stat`, whether a thread sleeps, the
//! sockets it holds. Shared by `readiness` (is a program listening?) and `blocked` (is it
//! waiting for good?), which must not import each other.

use std::fs;

/// The fields of a process's `stat` after its command name (in parentheses, which may hold
/// any byte): state, ppid, pgrp, session, tty, tpgid, flags, ...
pub(super) fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether `pid` is one of the harness's `sandbox-init` processes around the program it
/// started as `started`: that process itself, the PID 1 it forks into a PID namespace, or
/// the memory and disk watcher either of those forks beside the program: named
/// `sandbox-init`, at most two deep below `started`. A program that takes the name
/// (`prctl(PR_SET_NAME)`) in the process `sandbox-init` forked passes for one too, which
/// only costs it time: the harness then waits for its report a moment longer and gives no
/// early verdict while it runs.
pub(super) fn is_sandbox_init_of(pid: i32, started: i32) -> bool {
    let named = |pid: i32| {
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim_end() == "sandbox-init")
    };
    let mut at = pid;
    for _ in 0..3 {
        if at == started {
            return true;
        }
        if !named(at) {
            return false;
        }
        match parent_of(at) {
            Some(up) => at = up,
            None => return false,
        }
    }
    false
}

/// The process's parent, if it is still there.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Whether the thread sleeps ('S' in its `stat`: the state follows the command name,
/// which is in parentheses and may hold any byte).
pub(super) fn sleeps(pid: i32, tid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            == Some("S")
    })
}

/// The real user id of a process (`Uid:` of its `status`, which anyone may read).
pub(super) fn uid_of(pid: i32) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Inodes of the sockets a process holds open (none where its descriptors cannot be read:
/// another user's process, for a harness without `CAP_SYS_PTRACE`, as in a container).
pub(super) fn socket_inodes(pid: i32) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return vec![];
    };
    entries
        .filter_map(|entry| {
            let target = fs::read_link(entry.ok()?.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}
