//! Short calls from outside the program: `sandbox-init` traces the program's send and
//! receive calls and cuts their length before the kernel runs them (`--trace-short-calls
//! seed=N,max=M`).
//!
//! The short-call library (`harness/short-calls`) cuts a program's socket calls from
//! inside, through the dynamic loader. Whatever does not go through the C library escapes
//! it: a statically linked program (no dynamic loader reads `LD_PRELOAD`), and a system
//! call the program's own machine code makes (an inline `syscall` instruction). Here the
//! kernel itself stops the program at each such call, whoever made it:
//!
//! - the program is traced from before its `exec` (`PTRACE_SEIZE` by the process that
//!   forked it, with `PTRACE_O_EXITKILL`: if the tracer dies, so does every tracee), and so
//!   is everything it forks, clones or executes;
//! - a seccomp filter of its own ([`install_filter`]) stops it (`SECCOMP_RET_TRACE`) at
//!   `read`, `write`, `readv`, `writev`, `preadv2`, `pwritev2`, `recvfrom`, `sendto`,
//!   `recvmsg`, `sendmsg`, `recvmmsg`, `sendmmsg`, `sendfile` and `splice` (and at
//!   `epoll_ctl`, to learn which sockets an event loop watches edge-triggered), and refuses
//!   `prctl(PR_SET_DUMPABLE)` (a process that is not dumpable could hide its descriptors
//!   from the tracer);
//! - at each stop the tracer asks whether the descriptor is a TCP socket (from a copy of
//!   it, `pidfd_getfd`; where the tracer may not copy it, a container's root without
//!   `CAP_SYS_PTRACE`, its `/proc/PID/fd` link names a socket whose inode
//!   `/proc/PID/net/tcp` or `tcp6` lists), and if so lowers the call's length to a number
//!   drawn from 1 to `max`: a register for `read`, `write`, `recvfrom`, `sendto`,
//!   `sendfile` and `splice`. The calls that take their buffers in memory become the plain
//!   call on their first buffer, in registers alone (`writev` a `write`, `sendmsg` a
//!   `sendto`), so that no other thread of the program can undo the cut between the
//!   tracer's reading and the kernel's; `sendmmsg` and `recvmmsg` move one message, its
//!   buffers shortened in the program's memory and put back as the call returns.
//!   The kernel then makes the shorter call, and the program sees what any kernel may
//!   return: fewer bytes than it asked for. As the library does, it leaves whole a
//!   `recv(MSG_WAITALL)` and a socket an event loop watches edge-triggered (`EPOLLET`:
//!   tokio, mio), which takes a short read for a drained socket and would wait for ever.
//!
//! Where the plan says so (`eintr=P`), a blocking call on a TCP socket fails now and then
//! with `EINTR` before moving anything, as the library makes it fail: the call is skipped at
//! its stop.
//!
//! The library stays: it also moves hard-coded ports, and works where tracing is refused (a
//! Yama `ptrace_scope` of 2 or more). Both cut a program that has the library; a call
//! already short enough is left as it is, and a call the library interrupted never reaches
//! the kernel (where both are in a program, its calls are interrupted up to twice as often
//! as the plan says).
//!
//! x86-64 only (the registers are the architecture's); elsewhere the option is refused and
//! the harness's probe says so.

mod cut;
mod socket;

use std::collections::{HashMap, HashSet};
use std::io;

/// What the harness asks for: the seed of the cuts, the most bytes one call may move, and
/// how often (in a million) a blocking call fails with `EINTR` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    seed: u64,
    max: u64,
    eintr_ppm: u64,
}

impl Plan {
    /// Parses the short-call library's setting (`seed=N,max=M,...`; other keys are the
    /// library's alone).
    pub(crate) fn parse(setting: &str) -> Result<Plan, String> {
        let mut seed = None;
        let mut max = None;
        let mut eintr_ppm = Some(0);
        for pair in setting.split(',') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "seed" => seed = value.parse().ok(),
                "max" => max = value.parse().ok().filter(|max| *max >= 1),
                "eintr" => {
                    eintr_ppm = value
                        .parse::<f64>()
                        .ok()
                        .filter(|probability| (0.0..=1.0).contains(probability))
                        .map(|probability| (probability * 1e6).round() as u64)
                }
                _ => {}
            }
        }
        match (seed, max, eintr_ppm) {
            (Some(seed), Some(max), Some(eintr_ppm)) => Ok(Plan {
                seed,
                max,
                eintr_ppm,
            }),
            _ => Err(format!(
                "--trace-short-calls wants `seed=N,max=M[,eintr=P]` (max at least 1, P from 0 to 1), not `{setting}`"
            )),
        }
    }
}

/// A descriptor both ends of which the program's process and its tracer hold until the
/// tracer has seized the program: the program waits on it before it installs its filter.
pub(crate) struct Handshake {
    read: libc::c_int,
    write: libc::c_int,
}

impl Handshake {
    /// Made before the fork.
    pub(crate) fn new() -> io::Result<Handshake> {
        let mut ends = [0; 2];
        // SAFETY: pipe2 fills the two descriptors.
        if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Handshake {
            read: ends[0],
            write: ends[1],
        })
    }

    /// In the program's process: waits until the tracer has seized it (one byte), or has
    /// given up (the pipe closed without one: an error).
    pub(crate) fn wait_until_seized(&self) -> Result<(), String> {
        // SAFETY: closing our copy of the writing end; reading one byte into our local.
        unsafe {
            libc::close(self.write);
            let mut byte = 0u8;
            loop {
                let read = libc::read(self.read, (&mut byte as *mut u8).cast(), 1);
                if read == 1 {
                    libc::close(self.read);
                    return Ok(());
                }
                if read < 0 && *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                return Err("the tracer of its short calls could not seize it".into());
            }
        }
    }

    /// In the tracer: seizes `program` (which waits) and lets it go on. Whether it was
    /// seized; if not, the program is told so and ends.
    pub(crate) fn seize(self, program: libc::pid_t) -> Result<(), String> {
        let options = libc::PTRACE_O_TRACESECCOMP
            | libc::PTRACE_O_TRACESYSGOOD
            | libc::PTRACE_O_TRACECLONE
            | libc::PTRACE_O_TRACEFORK
            | libc::PTRACE_O_TRACEVFORK
            | libc::PTRACE_O_TRACEEXEC
            | libc::PTRACE_O_EXITKILL;
        // SAFETY: ptrace on our own child, which waits on the pipe; the pipe's ends are ours.
        unsafe {
            libc::close(self.read);
            let seized = libc::ptrace(libc::PTRACE_SEIZE, program, 0, options as libc::c_long);
            let result = if seized == 0 {
                Ok(())
            } else {
                Err(format!(
                    "cannot trace the program's short calls: {}",
                    io::Error::last_os_error()
                ))
            };
            if result.is_ok() {
                let byte = 1u8;
                libc::write(self.write, (&byte as *const u8).cast(), 1);
            }
            libc::close(self.write);
            result
        }
    }
}

/// The calls the filter stops at.
#[cfg(target_arch = "x86_64")]
const TRACED: [libc::c_long; 15] = [
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_preadv2,
    libc::SYS_pwritev2,
    libc::SYS_recvfrom,
    libc::SYS_sendto,
    libc::SYS_recvmsg,
    libc::SYS_sendmsg,
    libc::SYS_recvmmsg,
    libc::SYS_sendmmsg,
    libc::SYS_sendfile,
    libc::SYS_splice,
    libc::SYS_epoll_ctl,
];

/// Installs the tracing filter on this process (after `no_new_privs`, right before
/// `exec`): every call of [`TRACED`] stops in the tracer; `prctl(PR_SET_DUMPABLE)` is
/// refused with `EPERM`.
#[cfg(target_arch = "x86_64")]
pub(crate) fn install_filter() -> io::Result<()> {
    use crate::seccomp::{ARG0_LOW, JUMP_EQUAL, LOAD_WORD, NR, RETURN, jump, statement};
    let trace = libc::SECCOMP_RET_TRACE;
    let mut code = vec![statement(LOAD_WORD, NR)];
    // The architecture is checked by the main filter, which kills any other; x32's
    // numbers differ from every number here.
    for number in TRACED {
        code.push(jump(JUMP_EQUAL, number as u32, 0, 1));
        code.push(statement(RETURN, trace));
    }
    code.push(jump(JUMP_EQUAL, libc::SYS_prctl as u32, 0, 3));
    code.push(statement(LOAD_WORD, ARG0_LOW));
    code.push(jump(JUMP_EQUAL, libc::PR_SET_DUMPABLE as u32, 0, 1));
    code.push(statement(
        RETURN,
        libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
    ));
    code.push(statement(RETURN, libc::SECCOMP_RET_ALLOW));
    crate::seccomp::install_program(&code)
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn install_filter() -> io::Result<()> {
    Err(io::Error::other(
        "tracing short calls is built for x86-64 only",
    ))
}

/// `PTRACE_EVENT_STOP`: a group stop, or the first stop of an automatically traced child.
const EVENT_STOP: libc::c_int = 128;

/// The tracer's state across stops.
pub(crate) struct Tracer {
    /// The draws: splitmix64 from the plan's seed.
    state: u64,
    max: u64,
    eintr_ppm: u64,
    /// Words of a tracee's memory changed for its current call, put back when it returns:
    /// (address, original word), by tracee.
    pending: HashMap<libc::pid_t, Vec<(u64, u64)>>,
    /// Socket inodes known to be TCP (a socket stays what it is).
    tcp: HashSet<u64>,
    /// Socket inodes an `epoll` instance watches edge-triggered, never cut.
    edge_triggered: HashSet<u64>,
    /// The program's user and group, where this process is root and the program runs as
    /// a user of its own.
    user: Option<(u32, u32)>,
}

impl Tracer {
    pub(crate) fn new(plan: Plan, user: Option<(u32, u32)>) -> Tracer {
        // SAFETY: geteuid only reads our id.
        let root = unsafe { libc::geteuid() } == 0;
        Tracer {
            state: plan.seed,
            max: plan.max,
            eintr_ppm: plan.eintr_ppm,
            pending: HashMap::new(),
            tcp: HashSet::new(),
            edge_triggered: HashSet::new(),
            user: user.filter(|_| root),
        }
    }

    /// Handles one stop of tracee `pid` (`status` from `wait4`, `WIFSTOPPED`), and lets it
    /// go on.
    pub(crate) fn on_stop(&mut self, pid: libc::pid_t, status: libc::c_int) {
        let signal = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xffff;
        let resume = |request, signal: libc::c_int| {
            // SAFETY: resuming a tracee of ours that is stopped.
            unsafe { libc::ptrace(request, pid, 0, signal as libc::c_long) };
        };
        match event {
            libc::PTRACE_EVENT_SECCOMP => {
                if self.cut(pid) {
                    // Stop again as the call returns, to put its memory back.
                    resume(libc::PTRACE_SYSCALL, 0);
                } else {
                    resume(libc::PTRACE_CONT, 0);
                }
            }
            EVENT_STOP => {
                if matches!(
                    signal,
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
                ) {
                    // A group stop: it stays stopped, as it would untraced, until SIGCONT.
                    resume(libc::PTRACE_LISTEN, 0);
                } else {
                    resume(libc::PTRACE_CONT, 0);
                }
            }
            0 if signal == libc::SIGTRAP | 0x80 => {
                // A system-call stop, asked for after a cut.
                if self.at_syscall_exit(pid) {
                    self.put_back(pid);
                    resume(libc::PTRACE_CONT, 0);
                } else {
                    resume(libc::PTRACE_SYSCALL, 0);
                }
            }
            // A signal on its way to the tracee: it gets it.
            0 => resume(libc::PTRACE_CONT, signal),
            // Fork, clone, exec: nothing to do.
            _ => resume(libc::PTRACE_CONT, 0),
        }
    }

    /// A tracee ended: nothing of its memory is to be put back.
    pub(crate) fn forget(&mut self, pid: libc::pid_t) {
        self.pending.remove(&pid);
    }

    /// One draw from 1 to `max`.
    fn draw(&mut self) -> u64 {
        1 + self.next() % self.max
    }

    /// The next number of the seed's splitmix64 sequence.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Whether this blocking call fails with `EINTR` (a draw, only where the plan asks for
    /// interruptions: the other plans' draws stay as they were).
    fn interrupts(&mut self) -> bool {
        self.eintr_ppm > 0 && self.next() % 1_000_000 < self.eintr_ppm
    }

    /// Whether `pid`'s system-call stop is the call's return.
    fn at_syscall_exit(&self, pid: libc::pid_t) -> bool {
        // SAFETY: the kernel fills at most the size we pass of our local.
        let mut info: libc::ptrace_syscall_info = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::ptrace_syscall_info>();
        let filled = unsafe {
            libc::ptrace(
                libc::PTRACE_GET_SYSCALL_INFO,
                pid,
                size,
                &mut info as *mut libc::ptrace_syscall_info,
            )
        };
        // Without the request (before Linux 5.3) a stop asked for after a seccomp stop is
        // the return (Linux 4.8 and later).
        filled <= 0 || info.op == libc::PTRACE_SYSCALL_INFO_EXIT
    }

    /// Puts back what a cut changed in `pid`'s memory.
    fn put_back(&mut self, pid: libc::pid_t) {
        for (address, word) in self
            .pending
            .remove(&pid)
            .unwrap_or_default()
            .into_iter()
            .rev()
        {
            poke(pid, address, word);
        }
    }
}

/// A word of `pid`'s memory (`PTRACE_PEEKDATA`: its tracer may read it whatever the
/// users), or `None`.
fn peek(pid: libc::pid_t, address: u64) -> Option<u64> {
    // SAFETY: errno is ours; PEEKDATA reads the stopped tracee's memory.
    unsafe {
        *libc::__errno_location() = 0;
        let word = libc::ptrace(libc::PTRACE_PEEKDATA, pid, address, 0);
        if word == -1 && *libc::__errno_location() != 0 {
            return None;
        }
        Some(word as u64)
    }
}

/// Writes a word of `pid`'s memory; whether it was written.
fn poke(pid: libc::pid_t, address: u64, word: u64) -> bool {
    // SAFETY: POKEDATA writes the stopped tracee's memory, where its own call reads.
    unsafe { libc::ptrace(libc::PTRACE_POKEDATA, pid, address, word) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_gives_seed_and_max_and_ignores_the_librarys_keys() {
        assert_eq!(
            Plan::parse("seed=42,max=16,eintr=0.02,mark=/tmp/x"),
            Ok(Plan {
                seed: 42,
                max: 16,
                eintr_ppm: 20_000
            })
        );
        assert_eq!(
            Plan::parse("seed=1,max=3"),
            Ok(Plan {
                seed: 1,
                max: 3,
                eintr_ppm: 0
            })
        );
        assert!(Plan::parse("seed=1,max=3,eintr=1.5").is_err());
        assert!(Plan::parse("seed=1,max=0").is_err());
        assert!(Plan::parse("max=3").is_err());
    }

    /// Runs `body` in a forked child on a TCP socket connected to a listener of this
    /// process, the child traced with `plan` as `sandbox-init` traces a program (seized
    /// before its filter is installed); `waiting` is written to the child before it is
    /// traced. The four numbers `body` returns, and this end of the connection.
    #[cfg(target_arch = "x86_64")]
    fn in_a_traced_child(
        plan: Plan,
        waiting: &[u8],
        body: fn(libc::c_int) -> [i64; 4],
    ) -> ([i64; 4], std::net::TcpStream) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshake = Handshake::new().unwrap();
        let mut results = [0; 2];
        // SAFETY: pipe2 fills the two descriptors.
        assert_eq!(unsafe { libc::pipe2(results.as_mut_ptr(), 0) }, 0);
        // SAFETY: the child makes system calls only, and ends with _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            unsafe {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
                let mut address: libc::sockaddr_in = std::mem::zeroed();
                address.sin_family = libc::AF_INET as libc::sa_family_t;
                address.sin_port = port.to_be();
                address.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
                if libc::connect(
                    fd,
                    (&address as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                ) != 0
                    || handshake.wait_until_seized().is_err()
                    || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || install_filter().is_err()
                {
                    libc::_exit(1);
                }
                let report = body(fd);
                libc::write(results[1], report.as_ptr().cast(), 32);
                libc::_exit(0);
            }
        }
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(waiting).unwrap();
        handshake.seize(child).unwrap();
        let mut tracer = Tracer::new(plan, None);
        let status = loop {
            let mut status = 0;
            // SAFETY: waiting for our own traced child.
            let pid = unsafe { libc::waitpid(child, &mut status, libc::__WALL) };
            assert_eq!(pid, child);
            if !libc::WIFSTOPPED(status) {
                break status;
            }
            tracer.on_stop(pid, status);
        };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status}"
        );
        let mut report = [0i64; 4];
        // SAFETY: reading 32 bytes into our local.
        let read = unsafe { libc::read(results[0], report.as_mut_ptr().cast(), 32) };
        assert_eq!(read, 32);
        (report, stream)
    }

    /// A traced child sends on a TCP socket with `writev` (two buffers of 100 bytes) and a
    /// raw `sendto` (20 000 bytes): both are cut to at most 16 bytes, its `iovec`s are as
    /// they were after the call, and what arrives is what the calls said they sent.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_traced_process_has_its_tcp_sends_cut_and_its_buffers_put_back() {
        use std::io::Read;
        let plan = Plan::parse("seed=1,max=16").unwrap();
        let (report, mut stream) = in_a_traced_child(plan, b"", |fd| {
            static DATA: [u8; 20_000] = [b'x'; 20_000];
            let iov = [
                libc::iovec {
                    iov_base: DATA.as_ptr() as *mut libc::c_void,
                    iov_len: 100,
                },
                libc::iovec {
                    iov_base: DATA.as_ptr() as *mut libc::c_void,
                    iov_len: 100,
                },
            ];
            // SAFETY: the buffers are static and the iovecs ours.
            unsafe {
                let written = libc::writev(fd, iov.as_ptr(), 2) as i64;
                let sent = libc::syscall(libc::SYS_sendto, fd, DATA.as_ptr(), 20_000, 0, 0, 0);
                [written, sent, iov[0].iov_len as i64, iov[1].iov_len as i64]
            }
        });
        let [written, sent, first, second] = report;
        assert!((1..=16).contains(&written), "writev returned {written}");
        assert!((1..=16).contains(&sent), "sendto returned {sent}");
        assert_eq!((first, second), (100, 100), "the iovecs are put back");
        let mut arrived = Vec::new();
        stream.read_to_end(&mut arrived).unwrap();
        assert_eq!(arrived.len() as i64, written + sent);
    }

    /// A traced child with every blocking call interrupted (`eintr=1`): its blocking `recv`
    /// and `write` on a TCP socket fail with `EINTR` without moving a byte (five bytes
    /// wait to be read: a `recv` not interrupted would return them rather than wait); a
    /// `recv(MSG_DONTWAIT)` and a `write` on the socket made non-blocking are not
    /// interrupted (a call that cannot block is never interrupted by a signal).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_traced_process_has_its_blocking_calls_interrupted_and_no_other() {
        use std::io::Read;
        let plan = Plan::parse("seed=3,max=16,eintr=1").unwrap();
        let (report, mut stream) = in_a_traced_child(plan, b"hello", |fd| {
            let mut buffer = [0u8; 10];
            // SAFETY: calls on our socket into our buffer; errno is ours.
            unsafe {
                let call = |result: isize| {
                    if result < 0 {
                        -(*libc::__errno_location() as i64)
                    } else {
                        result as i64
                    }
                };
                let received = call(libc::recv(fd, buffer.as_mut_ptr().cast(), 10, 0));
                let written = call(libc::write(fd, b"x".as_ptr().cast(), 1));
                let polled = call(libc::recv(
                    fd,
                    buffer.as_mut_ptr().cast(),
                    10,
                    libc::MSG_DONTWAIT,
                ));
                let flags = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
                let written_non_blocking = call(libc::write(fd, b"y".as_ptr().cast(), 1));
                [received, written, polled, written_non_blocking]
            }
        });
        let eintr = -i64::from(libc::EINTR);
        let [received, written, polled, written_non_blocking] = report;
        assert_eq!((received, written), (eintr, eintr), "recv and write");
        assert!(
            (1..=5).contains(&polled),
            "recv(MSG_DONTWAIT) returned {polled}"
        );
        assert_eq!(written_non_blocking, 1, "write on a non-blocking socket");
        // The first byte to arrive (the child's end may reset the connection after it,
        // having left bytes unread).
        let mut arrived = [0u8; 1];
        stream.read_exact(&mut arrived).unwrap();
        assert_eq!(&arrived, b"y", "only the call not interrupted moved a byte");
    }

    #[test]
    fn draws_are_from_one_to_max_and_follow_the_seed() {
        let plan = Plan {
            seed: 7,
            max: 16,
            eintr_ppm: 0,
        };
        let mut one = Tracer::new(plan, None);
        let mut two = Tracer::new(plan, None);
        let draws: Vec<u64> = (0..200).map(|_| one.draw()).collect();
        assert!(draws.iter().all(|draw| (1..=16).contains(draw)));
        assert!(draws.contains(&1) && draws.contains(&16));
        assert_eq!(draws, (0..200).map(|_| two.draw()).collect::<Vec<_>>());
    }
}
