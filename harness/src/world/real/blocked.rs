//! Whether a program's processes can still do anything by themselves.
//!
//! A waiting step (a reply owed within 5 s, an exit within 4 s) need not wait out its
//! deadline when the programs it waits on are blocked for good. This module answers the
//! programs' half of that question from `/proc`; whether the harness itself may still act
//! (a slice it holds back, bytes on their way) is the engine's half
//! (`crate::engine::stillness`). A process is blocked here when:
//!
//! - every thread sleeps ('S' in `/proc/PID/task/TID/stat`) inside a system call
//!   (`/proc/PID/task/TID/syscall`: its number and arguments) that waits, without a time
//!   limit or with one no shorter than the whole scenario's (Python's `settimeout(300)`),
//!   for something only a descriptor or another of these threads can bring:
//!   - `read`, `recv` or `accept` on a socket without `SO_RCVTIMEO`, or on a pipe;
//!   - `poll`, `select` or `epoll_wait` without a timeout, on sockets and pipes only (the
//!     sets are read from the process's memory, `/proc/PID/mem`, or from the epoll
//!     descriptor's `fdinfo`);
//!   - `futex` without a timeout (a lock, a join: another thread must act);
//!   - `wait4` or `waitid` (a child must end: it is one of the processes looked at);
//! - none of those descriptors is ready now: a copy of each (`pidfd_getfd`, the same open
//!   socket or pipe) is asked with `poll`;
//! - no signal is pending, no POSIX timer exists (`/proc/PID/timers`), and no `alarm()`
//!   is ticking anywhere on the machine ([`alarm_may_be_set`]), or else nothing handles
//!   SIGALRM.
//!
//! Each thread's count of context switches is read before and after: a look is taken only
//! if no thread ran meanwhile, and two looks with the same counts mean none ran between
//! them. Anything unreadable or unknown (another call, a `timerfd`, an architecture
//! without the table below) answers "may still move": the step then waits out its
//! deadline, as it always did.

use std::collections::BTreeSet;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use super::proc_entries::{sleeps, socket_inodes, stat_fields};

/// What every blocked thread of the processes waits for, and the counts that show none
/// of them has run since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Each thread (by id) with its context switches so far.
    switches: Vec<(i32, u64)>,
    /// What each thread waits for, for the report.
    pub waits: Vec<Wait>,
    /// The inodes of every socket the processes hold.
    pub sockets: BTreeSet<u64>,
}

impl Snapshot {
    /// Whether no thread has run between `self` and `later` (the same threads, each with
    /// the same count of context switches).
    pub fn unchanged_since(&self, earlier: &Snapshot) -> bool {
        self.switches == earlier.switches
    }
}

/// One blocked thread: the process it belongs to and what it waits in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The process's id.
    pub pid: i32,
    /// `accept`, `recv`, `poll`...
    pub call: &'static str,
    /// On what (`TCP 127.0.0.1:5000, no connection waiting`), empty for a lock or a child.
    pub on: String,
    /// The process is the harness's `sandbox-init`, not the program.
    pub helper: bool,
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.on.is_empty() {
            write!(f, "waits in {}", self.call)
        } else {
            write!(f, "waits in {} on {}", self.call, self.on)
        }
    }
}

/// What to look at for some programs: their processes (every thread of each), and the
/// harness's own threads that copy their output (`pumps`, thread ids of this process).
#[derive(Debug, Clone, Default)]
pub struct Looked {
    /// The programs' process ids.
    pub processes: Vec<i32>,
    /// The thread ids of the harness's threads that copy their output.
    pub pumps: Vec<i32>,
}

impl Looked {
    /// Adds another program's.
    pub fn extend(&mut self, other: Looked) {
        self.processes.extend(other.processes);
        self.pumps.extend(other.pumps);
    }
}

/// The threads of `looked`, if every one is blocked for good (see the module's comment),
/// a wait with a time limit of `horizon` or more counting as one without; `None` if any
/// may still move, or cannot be read.
pub fn look(looked: &Looked, horizon: Duration) -> Option<Snapshot> {
    // The cheap question first, for every thread (a crowd of 200 forked children is
    // mostly running, and the full look reads a dozen files for each).
    let every_thread_sleeps = looked
        .processes
        .iter()
        .all(|&pid| threads_of(pid).is_some_and(|tids| tids.iter().all(|&tid| sleeps(pid, tid))));
    if !every_thread_sleeps {
        return None;
    }
    let mut switches = Vec::new();
    let mut waits = Vec::new();
    let mut sockets = BTreeSet::new();
    // Read only if some process handles SIGALRM: the machine's list of timers is long (a
    // tenth of a millisecond and more of the kernel's time per read), and most programs
    // handle no SIGALRM.
    let alarms = std::cell::OnceCell::new();
    let alarm_ticking = || *alarms.get_or_init(alarm_may_be_set);
    for &pid in &looked.processes {
        let process = Process::open(pid)?;
        if !process.has_no_timers_or_signals(alarm_ticking) {
            return None;
        }
        sockets.extend(socket_inodes(pid));
        let helper = fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == "sandbox-init");
        for tid in threads_of(pid)? {
            // `sandbox-init` waiting on pidfds of its child and of the harness, or its
            // memory watcher pausing: nothing the program waits on.
            if helper
                && process
                    .blocked_call(tid)
                    .is_some_and(|call| supervises(&call))
            {
                continue;
            }
            let (before, wait) = process.look_at_thread(tid, horizon, helper)?;
            switches.push((tid, before));
            waits.push(wait);
        }
    }
    // The harness's own: waiting in `read` on an empty pipe, or the program's output may
    // be on its way (their process has timers and signals of its own: not asked).
    let harness = Process::open(std::process::id() as i32)?;
    for &tid in &looked.pumps {
        let (before, _) = harness.look_at_thread(tid, horizon, true)?;
        switches.push((tid, before));
    }
    switches.sort_unstable();
    Some(Snapshot {
        switches,
        waits,
        sockets,
    })
}

/// The threads of `pid`, in order.
fn threads_of(pid: i32) -> Option<Vec<i32>> {
    let mut tids: Vec<i32> = fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Some(tids)
}

/// Whether every thread of every one of `processes` sleeps: none runs, none is on its
/// way out (a process ending, or ended and not yet reaped, does not sleep). A process
/// gone meanwhile counts as asleep: it runs no more.
pub fn all_asleep(processes: &[i32]) -> bool {
    processes.iter().all(|&pid| {
        threads_of(pid).is_none_or(|tids| {
            tids.iter().all(|&tid| {
                sleeps(pid, tid)
                    || !std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists()
            })
        })
    })
}

/// `PF_EXITING` in a process's flags: it is in `exit()`, whatever its state says (it may
/// sleep there, its connections already closed).
const PF_EXITING: u64 = 0x4;

/// Whether the process has ended or is on its way out: gone, a zombie waiting to be
/// reaped, or in `exit()` (the `flags` of its `stat` hold `PF_EXITING`).
pub fn ended_or_ending(pid: i32) -> bool {
    let Some(fields) = stat_fields(pid) else {
        return true;
    };
    let flags = fields.get(6).and_then(|flags| flags.parse::<u64>().ok());
    matches!(fields.first().map(String::as_str), Some("Z" | "X"))
        || flags.is_some_and(|flags| flags & PF_EXITING != 0)
}

pub use super::proc_entries::parent_of;

/// Whether an `alarm()` (or `setitimer(ITIMER_REAL)`) may be ticking for some process:
/// `/proc/timer_list` lists every armed timer of the machine by its function
/// (`it_real_fn` for those). Where it cannot be read (not root; a container that masks it
/// with an empty file), the answer is yes. An alarm nobody handles kills its process when
/// it goes off, closing its connections: a step whose outcome that would change asks
/// this first.
pub fn alarm_may_be_set() -> bool {
    match fs::read_to_string("/proc/timer_list") {
        Ok(timers) => !timers.starts_with("Timer List Version") || timers.contains("it_real_fn"),
        Err(_) => true,
    }
}

/// A thread's context switches so far (voluntary and not), and no signal pending for it.
fn thread_switches(pid: i32, tid: i32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
    let mut total = 0;
    for line in status.lines() {
        let (key, value) = line.split_once(':')?;
        let value = value.trim();
        match key {
            "State" if !value.starts_with('S') => return None,
            "SigPnd" | "ShdPnd" if u64::from_str_radix(value, 16).ok()? != 0 => return None,
            "voluntary_ctxt_switches" | "nonvoluntary_ctxt_switches" => {
                total += value.parse::<u64>().ok()?;
            }
            _ => {}
        }
    }
    Some(total)
}

/// A system call a thread sleeps in: its number and first six arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockedCall {
    number: i64,
    args: [u64; 6],
}

/// Whether `call`, made by `sandbox-init`, only supervises: its `poll` of the pidfds of
/// what it waits for and of the harness, or its memory watcher's pause between two looks.
fn supervises(call: &BlockedCall) -> bool {
    let mut calls = vec![
        libc::SYS_ppoll,
        libc::SYS_clock_nanosleep,
        libc::SYS_nanosleep,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.push(libc::SYS_poll);
    calls.contains(&call.number)
}

/// Parses `/proc/PID/task/TID/syscall` (`45 0x3 0x7ffd... ...`); `None` when the thread
/// is running or sleeps outside a system call.
fn parse_syscall(line: &str) -> Option<BlockedCall> {
    let mut fields = line.split_whitespace();
    let number: i64 = fields.next()?.parse().ok()?;
    if number < 0 {
        return None;
    }
    let mut args = [0u64; 6];
    for arg in &mut args {
        *arg = u64::from_str_radix(fields.next()?.strip_prefix("0x")?, 16).ok()?;
    }
    Some(BlockedCall { number, args })
}

/// What a call waits for.
#[derive(Debug, PartialEq, Eq)]
enum Waiting {
    /// `read`, `recv`, `accept` on one descriptor (a socket's own limit is
    /// `SO_RCVTIMEO`).
    Descriptor { call: &'static str, fd: i32 },
    /// `poll`/`ppoll`: an array of `struct pollfd` at `address`.
    PollArray {
        call: &'static str,
        address: u64,
        count: u64,
        limit: Limit,
    },
    /// `select`/`pselect6`: up to three `fd_set`s of `count` descriptors.
    SelectSets {
        call: &'static str,
        count: u64,
        sets: [u64; 3],
        limit: Limit,
    },
    /// `epoll_wait` on this epoll descriptor.
    Epoll {
        call: &'static str,
        fd: i32,
        limit: Limit,
    },
    /// `futex` without a time limit: another thread must wake it.
    Lock,
    /// `wait4`/`waitid`: a child must end.
    Child,
}

/// A call's time limit, as its arguments give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    /// None: it waits until something happens.
    Never,
    /// Milliseconds (an `int`: negative is none).
    Millis(i32),
    /// A `struct timeval` at this address (0: none).
    Timeval(u64),
    /// A `struct timespec` at this address (0: none).
    Timespec(u64),
}

/// The calls known to wait for others, by number (the table differs by architecture;
/// elsewhere nothing is known, and nothing is ever judged blocked).
fn classify(call: BlockedCall) -> Option<Waiting> {
    let [a0, a1, a2, a3, a4, _] = call.args;
    // The first argument, where it is a descriptor (wait4's is a pid: -1 for any child).
    let fd = int(a0);
    let number = call.number;
    let waiting = match number {
        n if n == libc::SYS_read || n == libc::SYS_readv => {
            Waiting::Descriptor { call: "read", fd }
        }
        n if n == libc::SYS_recvfrom || n == libc::SYS_recvmsg => {
            Waiting::Descriptor { call: "recv", fd }
        }
        n if n == libc::SYS_accept || n == libc::SYS_accept4 => {
            Waiting::Descriptor { call: "accept", fd }
        }
        n if n == libc::SYS_ppoll => Waiting::PollArray {
            call: "poll",
            address: a0,
            count: a1,
            limit: Limit::Timespec(a2),
        },
        n if n == libc::SYS_pselect6 => Waiting::SelectSets {
            call: "select",
            count: a0,
            sets: [a1, a2, a3],
            limit: Limit::Timespec(a4),
        },
        n if n == libc::SYS_epoll_pwait => Waiting::Epoll {
            call: "epoll_wait",
            fd,
            limit: Limit::Millis(int(a3)),
        },
        n if n == libc::SYS_epoll_pwait2 => Waiting::Epoll {
            call: "epoll_wait",
            fd,
            limit: Limit::Timespec(a3),
        },
        // FUTEX_WAIT (0) or FUTEX_WAIT_BITSET (9), private or not, without a time limit.
        n if n == libc::SYS_futex && matches!(a1 & !0x180, 0 | 9) && a3 == 0 => Waiting::Lock,
        n if n == libc::SYS_wait4 => Waiting::Child,
        n if n == libc::SYS_waitid => Waiting::Child,
        _ => return classify_legacy(call),
    };
    Some(waiting)
}

/// An `int` argument, as the kernel reads it from a 64-bit register.
fn int(value: u64) -> i32 {
    value as u32 as i32
}

/// The older calls x86-64 still has (aarch64 has only their successors).
#[cfg(target_arch = "x86_64")]
fn classify_legacy(call: BlockedCall) -> Option<Waiting> {
    let [a0, a1, a2, a3, a4, _] = call.args;
    match call.number {
        libc::SYS_poll => Some(Waiting::PollArray {
            call: "poll",
            address: a0,
            count: a1,
            limit: Limit::Millis(int(a2)),
        }),
        libc::SYS_select => Some(Waiting::SelectSets {
            call: "select",
            count: a0,
            sets: [a1, a2, a3],
            limit: Limit::Timeval(a4),
        }),
        libc::SYS_epoll_wait => Some(Waiting::Epoll {
            call: "epoll_wait",
            fd: int(a0),
            limit: Limit::Millis(int(a3)),
        }),
        _ => None,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn classify_legacy(_call: BlockedCall) -> Option<Waiting> {
    None
}

/// One process, open for looking: its pidfd, to copy its descriptors.
struct Process {
    pid: i32,
    pidfd: OwnedFd,
}

impl Process {
    fn open(pid: i32) -> Option<Process> {
        let process = rustix::process::Pid::from_raw(pid)?;
        let pidfd =
            rustix::process::pidfd_open(process, rustix::process::PidfdFlags::empty()).ok()?;
        Some(Process { pid, pidfd })
    }

    /// No signal pending, no POSIX timer; and no SIGALRM handler an `alarm()` could run,
    /// unless none may be ticking (`alarm_may_be_set`, asked only then). (Whether its
    /// threads sleep, a zombie's included, is [`thread_switches`]' question.)
    fn has_no_timers_or_signals(&self, alarm_may_be_set: impl FnOnce() -> bool) -> bool {
        let Ok(status) = fs::read_to_string(format!("/proc/{}/status", self.pid)) else {
            return false;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let mask = |name: &str| field(name).and_then(|value| u64::from_str_radix(value, 16).ok());
        let alarm_bit = 1u64 << (libc::SIGALRM - 1);
        let quiet = matches!(mask("SigPnd"), Some(0))
            && matches!(mask("ShdPnd"), Some(0))
            && mask("SigCgt").is_some_and(|caught| caught & alarm_bit == 0 || !alarm_may_be_set());
        // The file exists where the kernel can list timers; empty means none.
        quiet
            && fs::read_to_string(format!("/proc/{}/timers", self.pid))
                .is_ok_and(|timers| timers.trim().is_empty())
    }

    /// The thread `tid`, if it is blocked for good: its context switches so far, and what
    /// it waits in.
    fn look_at_thread(&self, tid: i32, horizon: Duration, helper: bool) -> Option<(u64, Wait)> {
        let before = thread_switches(self.pid, tid)?;
        let call = self.blocked_call(tid)?;
        let (name, on) = self.waits_for_good(&call, horizon)?;
        // A thread that ran while it was looked at: the look proves nothing.
        if thread_switches(self.pid, tid)? != before {
            return None;
        }
        let wait = Wait {
            pid: self.pid,
            call: name,
            on,
            helper,
        };
        Some((before, wait))
    }

    /// The system call `tid` is in, if it is in one (`running` otherwise); whether it
    /// sleeps there is [`thread_switches`]' question, asked first.
    fn blocked_call(&self, tid: i32) -> Option<BlockedCall> {
        let line = fs::read_to_string(format!("/proc/{}/task/{tid}/syscall", self.pid)).ok()?;
        parse_syscall(&line)
    }

    /// If `call` can end only when someone else acts, or at the end of its time limit but
    /// not before `horizon`: its name and what it waits on.
    fn waits_for_good(
        &self,
        call: &BlockedCall,
        horizon: Duration,
    ) -> Option<(&'static str, String)> {
        let waiting = classify(*call)?;
        let limit = match waiting {
            Waiting::PollArray { limit, .. }
            | Waiting::SelectSets { limit, .. }
            | Waiting::Epoll { limit, .. } => limit,
            _ => Limit::Never,
        };
        if !self.lasts(limit, horizon)? {
            return None;
        }
        match waiting {
            Waiting::Descriptor { call, fd } => {
                // A socket's receive timeout (`SO_RCVTIMEO`) ends the wait by itself.
                if self.kind_of(fd)? == Kind::Socket {
                    let socket = socket2::Socket::from(self.copy_fd(fd)?);
                    if socket
                        .read_timeout()
                        .ok()?
                        .is_some_and(|limit| limit < horizon)
                    {
                        return None;
                    }
                }
                let events = libc::POLLIN | libc::POLLRDHUP;
                Some((call, self.none_ready(&[(fd, events)])?))
            }
            Waiting::PollArray {
                call,
                address,
                count,
                ..
            } => {
                let wanted = self.poll_array(address, count)?;
                Some((call, self.none_ready(&wanted)?))
            }
            Waiting::SelectSets {
                call, count, sets, ..
            } => {
                let wanted = self.select_sets(count, sets)?;
                Some((call, self.none_ready(&wanted)?))
            }
            Waiting::Epoll { call, fd, .. } => {
                if self.kind_of(fd)? != Kind::Epoll || ready(&self.copy_fd(fd)?, libc::POLLIN) {
                    return None;
                }
                let wanted = self.epoll_targets(fd)?;
                Some((call, self.none_ready(&wanted)?))
            }
            Waiting::Lock => Some(("a lock (futex)", String::new())),
            Waiting::Child => Some(("wait (for a child)", String::new())),
        }
    }

    /// Whether a time limit, counted from when the call began (after the scenario did),
    /// reaches `horizon` (the scenario's own limit) or is none: then it cannot end the
    /// wait before the scenario ends. `None` if its value cannot be read.
    fn lasts(&self, limit: Limit, horizon: Duration) -> Option<bool> {
        let limit = match limit {
            Limit::Never | Limit::Timeval(0) | Limit::Timespec(0) => return Some(true),
            Limit::Millis(millis) => match u64::try_from(millis) {
                Ok(millis) => Duration::from_millis(millis),
                Err(_) => return Some(true),
            },
            // Both are two longs: seconds, then micro- or nanoseconds.
            Limit::Timeval(address) | Limit::Timespec(address) => {
                let bytes = self.memory(address, 16)?;
                let seconds = i64::from_ne_bytes(bytes[..8].try_into().ok()?);
                let fraction = i64::from_ne_bytes(bytes[8..].try_into().ok()?);
                let fraction = match limit {
                    Limit::Timeval(_) => Duration::from_micros(u64::try_from(fraction).ok()?),
                    _ => Duration::from_nanos(u64::try_from(fraction).ok()?),
                };
                Duration::from_secs(u64::try_from(seconds).ok()?) + fraction
            }
        };
        Some(limit >= horizon)
    }

    /// If none of `wanted` (descriptor, poll events) is ready, and each is a socket or a
    /// pipe: what they are, for the report.
    fn none_ready(&self, wanted: &[(i32, i16)]) -> Option<String> {
        let mut described = Vec::new();
        for &(fd, events) in wanted {
            let kind = self.kind_of(fd)?;
            let copy = self.copy_fd(fd)?;
            if matches!(kind, Kind::Epoll | Kind::Other) || ready(&copy, events) {
                return None;
            }
            let what = match kind {
                Kind::Socket => describe_socket(&socket2::Socket::from(copy)),
                _ if fd == 0 => "stdin".into(),
                _ => "a pipe".into(),
            };
            // A descriptor watched twice (select's read and error sets, a poll list
            // naming it again) is said once.
            if !described.contains(&what) {
                described.push(what);
            }
        }
        if described.is_empty() {
            // Nothing to wait on, and no time limit: only a signal could end it.
            return None;
        }
        Some(described.join(", "))
    }

    /// `count` `struct pollfd`s (int fd, short events, short revents) at `address`.
    fn poll_array(&self, address: u64, count: u64) -> Option<Vec<(i32, i16)>> {
        if count > 4096 {
            return None;
        }
        let bytes = self.memory(address, count as usize * 8)?;
        Some(
            bytes
                .chunks_exact(8)
                .filter_map(|entry| {
                    let fd = i32::from_ne_bytes(entry[0..4].try_into().ok()?);
                    let events = i16::from_ne_bytes(entry[4..6].try_into().ok()?);
                    // A negative descriptor is skipped by poll itself.
                    (fd >= 0).then_some((fd, events))
                })
                .collect(),
        )
    }

    /// The descriptors of `select`'s three sets (read, write, except), as poll events.
    fn select_sets(&self, count: u64, sets: [u64; 3]) -> Option<Vec<(i32, i16)>> {
        if count > 65536 {
            return None;
        }
        let events = [libc::POLLIN, libc::POLLOUT, libc::POLLPRI];
        let words = count.div_ceil(64) as usize;
        let mut wanted: Vec<(i32, i16)> = Vec::new();
        for (address, event) in sets.into_iter().zip(events) {
            if address == 0 {
                continue;
            }
            let bytes = self.memory(address, words * 8)?;
            for fd in 0..count as usize {
                let word = u64::from_ne_bytes(bytes[fd / 64 * 8..fd / 64 * 8 + 8].try_into().ok()?);
                if word & (1 << (fd % 64)) != 0 {
                    wanted.push((fd as i32, event));
                }
            }
        }
        Some(wanted)
    }

    /// The descriptors an epoll descriptor watches, with their events
    /// (`tfd: 5 events: 19 data: ...` lines of its `fdinfo`).
    fn epoll_targets(&self, fd: i32) -> Option<Vec<(i32, i16)>> {
        let info = fs::read_to_string(format!("/proc/{}/fdinfo/{fd}", self.pid)).ok()?;
        let mut wanted = Vec::new();
        for line in info.lines().filter(|line| line.starts_with("tfd:")) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let target: i32 = fields.get(1)?.parse().ok()?;
            let events = u32::from_str_radix(fields.get(3)?, 16).ok()?;
            // The low bits are poll's own (EPOLLIN = POLLIN...); EPOLLET and the like are
            // above them.
            wanted.push((target, (events & 0xffff) as u16 as i16));
        }
        Some(wanted)
    }

    /// `length` bytes of the process's memory at `address`.
    fn memory(&self, address: u64, length: usize) -> Option<Vec<u8>> {
        let file = fs::File::open(format!("/proc/{}/mem", self.pid)).ok()?;
        let mut bytes = vec![0; length];
        file.read_exact_at(&mut bytes, address).ok()?;
        Some(bytes)
    }

    /// A copy of the process's descriptor `fd` (the same open file).
    fn copy_fd(&self, fd: i32) -> Option<OwnedFd> {
        rustix::process::pidfd_getfd(&self.pidfd, fd, rustix::process::PidfdGetfdFlags::empty())
            .ok()
    }

    fn kind_of(&self, fd: i32) -> Option<Kind> {
        let target = fs::read_link(format!("/proc/{}/fd/{fd}", self.pid)).ok()?;
        let target = target.to_str()?;
        Some(if target.starts_with("socket:") {
            Kind::Socket
        } else if target.starts_with("pipe:") {
            Kind::Pipe
        } else if target == "anon_inode:[eventpoll]" {
            Kind::Epoll
        } else {
            Kind::Other
        })
    }
}

/// What a descriptor is, as far as waiting on it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Socket,
    Pipe,
    Epoll,
    /// A file, a timer, an event counter...: it may become ready by itself.
    Other,
}

/// Whether `fd` has any of `events` (or an error or hang-up) now.
fn ready(fd: &impl std::os::fd::AsFd, events: i16) -> bool {
    use rustix::event::{PollFd, PollFlags};
    let mut entry = [PollFd::new(fd, PollFlags::from_bits_retain(events as u16))];
    let now = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // An error (other than none ready) counts as ready: nothing is concluded from it.
    rustix::event::poll(&mut entry, Some(&now)) != Ok(0)
}

/// `TCP 127.0.0.1:5000 (listening)`, `TCP 127.0.0.1:5000 to 127.0.0.1:40112`, `UDP
/// 0.0.0.0:9999`.
fn describe_socket(socket: &socket2::Socket) -> String {
    let protocol = match socket.r#type() {
        Ok(socket2::Type::STREAM) => "TCP",
        Ok(socket2::Type::DGRAM) => "UDP",
        _ => "socket",
    };
    let local = socket
        .local_addr()
        .ok()
        .and_then(|address| address.as_socket());
    let Some(local) = local else {
        return protocol.to_owned();
    };
    if socket.is_listener().unwrap_or(false) {
        return format!("{protocol} {local} (listening, no connection waiting)");
    }
    match socket
        .peer_addr()
        .ok()
        .and_then(|address| address.as_socket())
    {
        Some(peer) => format!("{protocol} {local} from {peer} (nothing to read)"),
        None => format!("{protocol} {local} (nothing to read)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_ended_unreaped_is_ended_and_a_running_one_is_not() {
        assert!(!ended_or_ending(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        assert_eq!(parent_of(pid), Some(std::process::id() as i32));
        // Waited for without being reaped (WNOWAIT): it stays a zombie.
        use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
        waitid(
            WaitId::Pid(Pid::from_raw(pid).unwrap()),
            WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
        )
        .unwrap();
        assert!(ended_or_ending(pid));
        child.wait().unwrap();
        assert!(ended_or_ending(pid), "reaped: gone");
    }

    #[test]
    fn a_syscall_line_gives_the_number_and_six_arguments() {
        let line =
            "288 0x3 0x7ffc0ee18bf0 0x7ffc0ee18be4 0x80000 0x0 0x0 0x7ffc0ee18bb8 0x7f11a5328f63\n";
        let call = parse_syscall(line).unwrap();
        assert_eq!(call.number, 288);
        assert_eq!(call.args[0], 3);
        assert_eq!(call.args[3], 0x80000);
        assert_eq!(parse_syscall("running\n"), None);
        assert_eq!(parse_syscall("-1 0x7ffc0ee18bb8 0x7f11a5328f63\n"), None);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn only_calls_without_a_time_limit_wait_for_good() {
        let call = |number: i64, args: [u64; 6]| classify(BlockedCall { number, args });
        let limit = |waiting: Option<Waiting>| match waiting {
            Some(Waiting::PollArray { limit, .. }) => Some(limit),
            _ => None,
        };
        assert_eq!(
            call(libc::SYS_accept4, [3, 0, 0, 0x80000, 0, 0]),
            Some(Waiting::Descriptor {
                call: "accept",
                fd: 3
            })
        );
        // poll's -1 (as the kernel sees an int in a 64-bit register) is no limit.
        assert_eq!(
            limit(call(libc::SYS_poll, [0x1000, 2, 0xffff_ffff, 0, 0, 0])),
            Some(Limit::Millis(-1))
        );
        assert_eq!(
            limit(call(libc::SYS_poll, [0x1000, 2, 1000, 0, 0, 0])),
            Some(Limit::Millis(1000))
        );
        // A sleep, a futex with a time limit: never for good.
        assert_eq!(call(libc::SYS_nanosleep, [0x1000, 0, 0, 0, 0, 0]), None);
        assert_eq!(call(libc::SYS_futex, [0x1000, 0x80, 0, 0x3000, 0, 0]), None);
        assert_eq!(
            call(libc::SYS_futex, [0x1000, 0x89, 0, 0, 0, 0xffff_ffff]),
            Some(Waiting::Lock)
        );
    }

    /// A thread of this process that waits in `accept` on a listener with nothing
    /// queued is blocked for good; once a connection is queued, it is not.
    #[test]
    fn a_thread_in_accept_is_blocked_until_a_connection_waits() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listening_on = listener.local_addr().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let acceptor = std::thread::spawn(move || {
            let tid = rustix::thread::gettid().as_raw_nonzero().get();
            sender.send(tid).unwrap();
            listener.accept().map(|_| ())
        });
        let tid = receiver.recv().unwrap();
        let process = Process::open(std::process::id() as i32).unwrap();
        let horizon = Duration::from_secs(30);
        // Time limits: none, or one as long as the horizon, lasts; a shorter one does not.
        assert_eq!(process.lasts(Limit::Millis(-1), horizon), Some(true));
        assert_eq!(process.lasts(Limit::Millis(30_000), horizon), Some(true));
        assert_eq!(process.lasts(Limit::Millis(29_999), horizon), Some(false));
        let five_seconds: [i64; 2] = [5, 0];
        let address = five_seconds.as_ptr() as u64;
        assert_eq!(process.lasts(Limit::Timeval(address), horizon), Some(false));
        assert_eq!(process.lasts(Limit::Timespec(0), horizon), Some(true));
        // Bounded: the thread reaches accept within moments.
        let mut blocked = None;
        for _ in 0..500 {
            if let Some(call) = process.blocked_call(tid)
                && let Some(found) = process.waits_for_good(&call, horizon)
            {
                blocked = Some(found);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let (call, on) = blocked.expect("the thread waits in accept");
        assert_eq!(call, "accept");
        assert!(on.contains(&listening_on.to_string()), "{on}");
        assert!(on.contains("listening"), "{on}");
        // A client connects: the wait ends.
        let _client = std::net::TcpStream::connect(listening_on).unwrap();
        acceptor.join().unwrap().unwrap();
    }
}
