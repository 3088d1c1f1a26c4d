//! The memory and disk caps where no cgroup or sized folder can be had (a platform's
//! container, an ordinary user to whom the machine delegates no memory cgroup): a watcher
//! that adds up what the program and everything it forked hold, in memory and in its own
//! folders, and ends them all past either cap.
//!
//! With `--memory-watch BYTES` (and `--disk-watch BYTES` with its `--disk-folder`s), the
//! process that waits for the program forks a watcher beside it. Every [`INTERVAL`] (less
//! often for a large tree or folder: the watcher takes at most a tenth of a CPU) the watcher
//! walks the tree below its parent (every process the program forked stays in it: the
//! waiting process is their subreaper, or PID 1 of their namespace) and adds up each
//! process's proportional share of the memory it uses (`Pss` of `/proc/PID/smaps_rollup`:
//! pages shared by forked processes are counted once, as the kernel's memory cgroup
//! would), and what the folders hold ([`crate::disk_use`]). Past a cap it writes one byte
//! naming it to the pipe the waiting process reads, and kills every process of the tree but
//! itself. A program can outrun it by what it allocates or writes in one interval; the
//! address-space and file-size limits of each process (`setrlimit`) bound that. The watcher
//! runs as the program's user (a container's root may not read another user's memory maps
//! without `CAP_SYS_PTRACE`); the program cannot signal it where Landlock's signal scope
//! holds (ABI 6, Linux 6.12: every program is scoped, with walls or with a view,
//! [`crate::walls::raise_scopes`]), though the watcher is of its user and, in a PID
//! namespace, beside it. On an older kernel an ordinary user's program in a PID namespace
//! could kill it and go uncapped.

use std::time::Duration;

/// How often the watcher measures.
const INTERVAL: Duration = Duration::from_millis(50);

/// What the watcher caps.
#[derive(Debug, Default, Clone)]
pub(crate) struct Caps {
    /// What the program and everything it forks may hold in memory together, in bytes.
    pub memory: Option<u64>,
    /// What its own folders may hold on disk together, in bytes, and those folders.
    pub disk: Option<(u64, Vec<std::path::PathBuf>)>,
}

impl Caps {
    /// Whether there is anything to watch.
    pub(crate) fn any(&self) -> bool {
        self.memory.is_some() || self.disk.is_some()
    }
}

/// Which cap the watcher ended the program for: the byte it writes to its pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    Memory = 1,
    Disk = 2,
}

/// What the waiting process keeps of its watcher: the reading end of its pipe.
pub(crate) struct Watcher {
    fired: libc::c_int,
}

impl Watcher {
    /// Forks the watcher of the tree below this process, which ends it past `caps`.
    /// `None` where there is nothing to watch or it cannot be forked (the program then
    /// runs without the caps).
    ///
    /// `user`: the program's user of its own, which the watcher becomes (where this process
    /// is root) to read its processes' memory maps: a container's root lacks
    /// `CAP_SYS_PTRACE`, which reading another user's needs.
    pub(crate) fn start(caps: &Caps, user: Option<(u32, u32)>) -> Option<Watcher> {
        if !caps.any() {
            return None;
        }
        let mut ends = [0; 2];
        // SAFETY: pipe2 fills the two descriptors.
        if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
            return None;
        }
        // SAFETY: getpid only reads our id; fork in a process with one thread.
        let parent = unsafe { libc::getpid() };
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: closing our copy of the reading end.
            unsafe { libc::close(ends[0]) };
            // SAFETY: plain system calls on our own credentials; one thread.
            unsafe {
                if let Some((uid, gid)) = user
                    && libc::geteuid() == 0
                    && (libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setresgid(gid, gid, gid) != 0
                        || libc::setresuid(uid, uid, uid) != 0)
                {
                    libc::_exit(125);
                }
            }
            watch(parent, caps, ends[1]);
        }
        // SAFETY: closing our copy of the writing end.
        unsafe { libc::close(ends[1]) };
        if pid < 0 {
            // SAFETY: closing the reading end nobody will write.
            unsafe { libc::close(ends[0]) };
            return None;
        }
        Some(Watcher { fired: ends[0] })
    }

    /// The cap the watcher ended the program's processes for, if it did.
    pub(crate) fn fired(&self) -> Option<Over> {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into our local, without blocking.
        if unsafe { libc::read(self.fired, (&mut byte as *mut u8).cast(), 1) } != 1 {
            return None;
        }
        Some(if byte == Over::Disk as u8 {
            Over::Disk
        } else {
            Over::Memory
        })
    }
}

/// The watcher's life: measure, and end the tree below `parent` past a cap; it ends
/// when `parent` does (or kills it).
fn watch(parent: libc::pid_t, caps: &Caps, fired: libc::c_int) -> ! {
    crate::supervise::release_stdio();
    // SAFETY: getpid only reads our id.
    let own = unsafe { libc::getpid() };
    let mut pause = INTERVAL;
    // SAFETY: getppid only reads our parent's id.
    while unsafe { libc::getppid() } == parent {
        std::thread::sleep(pause);
        let measuring = std::time::Instant::now();
        // The tree is listed (a walk of /proc) only where memory is watched, or to end it:
        // a watcher of folders alone reads nothing else while the program runs.
        let mut tree = caps.memory.map(|_| descendants(parent, own));
        let over = caps
            .memory
            .zip(tree.as_deref())
            .filter(|(limit, tree)| memory_held(tree, *limit) > *limit)
            .map(|_| Over::Memory)
            .or_else(|| {
                let (limit, folders) = caps.disk.as_ref()?;
                (crate::disk_use::held(folders, *limit) > *limit).then_some(Over::Disk)
            });
        // At most a tenth of a CPU: a larger tree or folder is measured less often.
        pause = INTERVAL.max(measuring.elapsed() * 10);
        if let Some(over) = over {
            let tree = tree.take().unwrap_or_else(|| descendants(parent, own));
            // SAFETY: writing one byte of ours; then signals to processes of the tree.
            unsafe {
                libc::write(fired, [over as u8].as_ptr().cast(), 1);
                for pid in tree {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
    // SAFETY: ends the watcher.
    unsafe { libc::_exit(0) };
}

/// What the processes of `tree` hold in memory together, measured no more finely than
/// `limit` needs.
fn memory_held(tree: &[libc::pid_t], limit: u64) -> u64 {
    // The resident sizes first, which the kernel keeps counted: their sum is never less
    // than the proportional one, which walks every page table and is measured only where
    // the cheap sum passes the cap (a server with two hundred forked children holds its
    // pages shared many times).
    let resident: u64 = tree.iter().map(|&pid| resident_size(pid)).sum();
    if resident > limit {
        tree.iter().map(|&pid| proportional_size(pid)).sum()
    } else {
        resident
    }
}

/// Every process below `root` (its children, theirs, ...) but `skip`.
fn descendants(root: libc::pid_t, skip: libc::pid_t) -> Vec<libc::pid_t> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for child in crate::supervise::children_of(pid) {
            if child != skip && !found.contains(&child) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// The memory `pid` holds, its shared pages divided among those that share them, in
/// bytes (0 once it has ended).
fn proportional_size(pid: libc::pid_t) -> u64 {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return resident_size(pid);
    };
    text.lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or_else(|| resident_size(pid), |kib| kib * 1024)
}

/// The resident size of `pid` (also where `smaps_rollup` cannot be read, before 4.14).
fn resident_size(pid: libc::pid_t) -> u64 {
    // SAFETY: sysconf only reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    std::fs::read_to_string(format!("/proc/{pid}/statm"))
        .ok()
        .and_then(|text| text.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page)
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(self.fired) };
    }
}
