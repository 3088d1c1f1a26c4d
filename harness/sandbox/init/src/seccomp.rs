//! The system calls a program under test may not make: a seccomp filter, written as the
//! classic BPF program the kernel runs on every system call.
//!
//! No lab program needs to mount, change namespaces, trace another process, load kernel
//! code or talk to the kernel's key store; each of these is a way out of the sandbox or
//! into the kernel's attack surface, so each returns `EPERM` (the program sees an ordinary
//! refusal and can say so). The list follows Docker's default profile and nsjail's, less
//! what an unprivileged process cannot do anyway (kept here all the same: the filter is the
//! layer that holds where another fails).
//!
//! The filter also
//! - kills a process that makes a system call of another architecture than the one it was
//!   built for (a 32-bit `int 0x80` on x86-64 has other numbers, which the list would not
//!   match), and refuses x32's numbers;
//! - refuses `clone` and `unshare` with any namespace flag, and `clone3` altogether with
//!   `ENOSYS` (its flags are in memory, out of a filter's reach; C libraries then fall back
//!   to `clone`, whose flags are in a register);
//! - refuses `ioctl(TIOCSTI)`, which would type into the terminal the harness runs in;
//! - refuses System V IPC and POSIX message queues (objects that would outlive the
//!   program where it has no IPC namespace of its own);
//! - refuses a socket of any family but unix, IPv4, IPv6 and netlink with `EAFNOSUPPORT`
//!   (`AF_VSOCK` reaches the services of a virtual machine's host, which no wall of
//!   Landlock's covers; Docker's profile refuses it too);
//! - refuses `prlimit64` on any process but the caller's own (pid 0): on a shared loopback
//!   the supervisor that makes a program's network calls runs as the program's user, and a
//!   program set its CPU limit to one second and outlived it;
//! - refuses a source route (`setsockopt` of `IP_OPTIONS`, `IPV6_RTHDR`, and RFC 2292's
//!   routing header and packet options): a datagram or SYN sent to the loopback with one
//!   goes first to the route's host, past the warden's check of its address;
//! - refuses `MSG_FASTOPEN` in `sendto`, `sendmsg` and `sendmmsg`: a TCP Fast Open
//!   connects inside the send, where Landlock's check of `connect` is never made (on a
//!   shared loopback a walled program reached a grader's web server that way);
//! - with [`Unix::PairsOnly`] (`--no-unix-sockets`), refuses `socket(AF_UNIX)` with `EACCES`
//!   (a `socketpair` still works): where no warden checks whose named socket a program
//!   connects to, it can make none to connect with;
//! - with [`Internet::Refused`] (`--no-internet`), refuses every internet socket with
//!   `EACCES`: a server of the harness's that listens on a unix socket only (the kit's
//!   MariaDB, whose built-in replication would connect wherever it is told);
//! - with [`Internet::TcpOnly`] (`--tcp-only`), refuses an internet socket of any kind but
//!   TCP with `EACCES`: on a shared loopback where no warden makes a program's calls
//!   naming an address (a platform's container), UDP has no wall at all (Landlock has no
//!   rule for it, and a filter cannot read an address in memory), so a program whose task
//!   and scenario use none gets none. Its kind and protocol are in registers, which a
//!   filter reads: nothing another thread can change after the check.
//!
//! It is installed last, after `no_new_privs`, right before `execve`: it holds for the
//! program and everything it forks, and cannot be removed.

use std::io;

/// `offsetof(struct seccomp_data, nr)`, `arch`, and the low 32 bits of `args[0]` and
/// `args[1]` (little-endian).
pub(crate) const NR: u32 = 0;
const ARCH: u32 = 4;
pub(crate) const ARG0_LOW: u32 = 16;
const ARG0_HIGH: u32 = 20;
pub(crate) const ARG1_LOW: u32 = 24;
pub(crate) const ARG2_LOW: u32 = 32;
const ARG3_LOW: u32 = 40;

#[cfg(target_arch = "x86_64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_00B7;

/// x32's system calls are x86-64's numbers with this bit set.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Every namespace flag of `clone` and `unshare` (`CLONE_NEWTIME` included).
pub(crate) const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32
    | 0x80;

/// The socket families a program may make: what the labs, their languages' runtimes and
/// the C library use (netlink: `getifaddrs`, `getaddrinfo`'s `AI_ADDRCONFIG`).
const SOCKET_FAMILIES: [libc::c_int; 4] = [
    libc::AF_UNIX,
    libc::AF_INET,
    libc::AF_INET6,
    libc::AF_NETLINK,
];

/// `TIOCSTI`: push a byte into a terminal's input.
const TIOCSTI: u32 = 0x5412;

/// RFC 2292's socket options (`linux/in6.h`): a routing header, and packet options that
/// may carry one.
const IPV6_2292RTHDR: u32 = 5;
const IPV6_2292PKTOPTIONS: u32 = 6;

/// The calls refused with `EPERM`, whatever their arguments: (number, name). The names are
/// for the tests and the crate's documentation.
pub(crate) fn refused() -> Vec<(libc::c_long, &'static str)> {
    let mut calls = vec![
        (libc::SYS_mount, "mount"),
        (libc::SYS_umount2, "umount2"),
        (libc::SYS_pivot_root, "pivot_root"),
        (libc::SYS_chroot, "chroot"),
        (libc::SYS_setns, "setns"),
        (libc::SYS_open_tree, "open_tree"),
        (libc::SYS_move_mount, "move_mount"),
        (libc::SYS_fsopen, "fsopen"),
        (libc::SYS_fsconfig, "fsconfig"),
        (libc::SYS_fsmount, "fsmount"),
        (libc::SYS_fspick, "fspick"),
        (libc::SYS_mount_setattr, "mount_setattr"),
        (libc::SYS_ptrace, "ptrace"),
        (libc::SYS_process_vm_readv, "process_vm_readv"),
        (libc::SYS_process_vm_writev, "process_vm_writev"),
        (libc::SYS_pidfd_getfd, "pidfd_getfd"),
        (libc::SYS_kcmp, "kcmp"),
        (libc::SYS_keyctl, "keyctl"),
        (libc::SYS_add_key, "add_key"),
        (libc::SYS_request_key, "request_key"),
        (libc::SYS_bpf, "bpf"),
        (libc::SYS_perf_event_open, "perf_event_open"),
        (libc::SYS_init_module, "init_module"),
        (libc::SYS_finit_module, "finit_module"),
        (libc::SYS_delete_module, "delete_module"),
        (libc::SYS_kexec_load, "kexec_load"),
        (libc::SYS_kexec_file_load, "kexec_file_load"),
        (libc::SYS_open_by_handle_at, "open_by_handle_at"),
        (libc::SYS_name_to_handle_at, "name_to_handle_at"),
        (libc::SYS_userfaultfd, "userfaultfd"),
        (libc::SYS_io_uring_setup, "io_uring_setup"),
        (libc::SYS_io_uring_enter, "io_uring_enter"),
        (libc::SYS_io_uring_register, "io_uring_register"),
        (libc::SYS_fanotify_init, "fanotify_init"),
        (libc::SYS_swapon, "swapon"),
        (libc::SYS_swapoff, "swapoff"),
        (libc::SYS_reboot, "reboot"),
        (libc::SYS_syslog, "syslog"),
        (libc::SYS_acct, "acct"),
        (libc::SYS_quotactl, "quotactl"),
        (libc::SYS_settimeofday, "settimeofday"),
        (libc::SYS_clock_settime, "clock_settime"),
        (libc::SYS_clock_adjtime, "clock_adjtime"),
        (libc::SYS_adjtimex, "adjtimex"),
        (libc::SYS_vhangup, "vhangup"),
        (libc::SYS_setdomainname, "setdomainname"),
        (libc::SYS_sethostname, "sethostname"),
        // System V and POSIX message queues, semaphores and shared memory: no lab uses
        // them, and where no IPC namespace of its own can be made (a platform's
        // container) an object left behind outlives the program for a later one to find.
        (libc::SYS_shmget, "shmget"),
        (libc::SYS_shmat, "shmat"),
        (libc::SYS_shmctl, "shmctl"),
        (libc::SYS_shmdt, "shmdt"),
        (libc::SYS_semget, "semget"),
        (libc::SYS_semop, "semop"),
        (libc::SYS_semtimedop, "semtimedop"),
        (libc::SYS_semctl, "semctl"),
        (libc::SYS_msgget, "msgget"),
        (libc::SYS_msgsnd, "msgsnd"),
        (libc::SYS_msgrcv, "msgrcv"),
        (libc::SYS_msgctl, "msgctl"),
        (libc::SYS_mq_open, "mq_open"),
        (libc::SYS_mq_unlink, "mq_unlink"),
        (libc::SYS_mq_timedsend, "mq_timedsend"),
        (libc::SYS_mq_timedreceive, "mq_timedreceive"),
        (libc::SYS_mq_notify, "mq_notify"),
        (libc::SYS_mq_getsetattr, "mq_getsetattr"),
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([
        (libc::SYS_iopl, "iopl"),
        (libc::SYS_ioperm, "ioperm"),
        (libc::SYS_uselib, "uselib"),
        (libc::SYS_ustat, "ustat"),
        (libc::SYS_sysfs, "sysfs"),
        (libc::SYS__sysctl, "_sysctl"),
        (libc::SYS_lookup_dcookie, "lookup_dcookie"),
    ]);
    calls
}

/// One BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Instruction {
    code: u16,
    jump_true: u8,
    jump_false: u8,
    k: u32,
}

pub(crate) const LOAD_WORD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
pub(crate) const JUMP_EQUAL: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
pub(crate) const JUMP_AT_LEAST: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
pub(crate) const JUMP_ANY_BIT: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
pub(crate) const RETURN: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

pub(crate) fn statement(code: u16, k: u32) -> Instruction {
    Instruction {
        code,
        jump_true: 0,
        jump_false: 0,
        k,
    }
}

pub(crate) fn jump(code: u16, k: u32, jump_true: u8, jump_false: u8) -> Instruction {
    Instruction {
        code,
        jump_true,
        jump_false,
        k,
    }
}

pub(crate) const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
const ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
const EAFNOSUPPORT: u32 = libc::SECCOMP_RET_ERRNO | libc::EAFNOSUPPORT as u32;
const EACCES: u32 = libc::SECCOMP_RET_ERRNO | libc::EACCES as u32;
/// `A &= k`, on the accumulator.
pub(crate) const AND: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;
/// `A -= k`, on the accumulator (unsigned: below `k` wraps to a large number).
pub(crate) const SUBTRACT: u16 = (libc::BPF_ALU | libc::BPF_SUB | libc::BPF_K) as u16;
/// `SOCK_TYPE_MASK`: a socket's kind without `SOCK_NONBLOCK` and `SOCK_CLOEXEC`.
pub(crate) const SOCKET_KIND_MASK: u32 = 0xf;

/// Which sockets a program may make with `socket` (a `socketpair` is always allowed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sockets {
    pub internet: Internet,
    pub unix: Unix,
}

/// Whether a program may make a unix socket of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Unix {
    #[default]
    Any,
    /// Only the connected stream and sequenced-packet pairs of `socketpair`
    /// (`--no-unix-sockets`): no `socket(AF_UNIX)`, so no `connect` to a named socket a
    /// grader's service listens on, which Landlock does not wall before its ABI 9 and no
    /// warden checks where none can run; and no datagram pair, which could `sendto` one.
    PairsOnly,
}

/// Which internet sockets a program may make.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Internet {
    /// Any kind the kernel gives an unprivileged process (TCP, UDP, ICMP's datagrams).
    #[default]
    Any,
    /// TCP only (`SOCK_STREAM`, protocol 0 or `IPPROTO_TCP`): no UDP, no ICMP, no SCTP
    /// or MPTCP, which Landlock's TCP walls do not cover.
    TcpOnly,
    /// TCP, and datagram sockets, which the warden makes and walls where it owns them
    /// ([`crate::warden::Mode::Owner`]): nothing else Landlock's TCP walls do not cover.
    TcpAndDatagrams,
    /// None at all: a server that listens on a unix socket only.
    Refused,
}

/// The filter's program. Layout: the architecture check, the call number loaded, one
/// test per refused call (a match jumps to the shared `EPERM` at the end), then the calls
/// whose arguments decide, then `ALLOW`.
fn program(sockets: Sockets) -> Vec<Instruction> {
    let mut code = vec![
        statement(LOAD_WORD, ARCH),
        jump(JUMP_EQUAL, AUDIT_ARCH, 1, 0),
        statement(RETURN, KILL),
        statement(LOAD_WORD, NR),
    ];
    #[cfg(target_arch = "x86_64")]
    {
        code.push(jump(JUMP_AT_LEAST, X32_SYSCALL_BIT, 0, 1));
        code.push(statement(RETURN, EPERM));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = JUMP_AT_LEAST;
    // Each refused call: "if nr == call, return EPERM", two instructions, so that no
    // jump offset depends on the list's length (offsets are 8 bits).
    for (number, _) in refused() {
        code.push(jump(JUMP_EQUAL, number as u32, 0, 1));
        code.push(statement(RETURN, EPERM));
    }
    code.push(jump(JUMP_EQUAL, libc::SYS_clone3 as u32, 0, 1));
    code.push(statement(RETURN, ENOSYS));
    // clone and unshare: their flags in the first argument (x86-64's clone, aarch64's and
    // unshare's alike).
    for call in [libc::SYS_clone, libc::SYS_unshare] {
        code.push(jump(JUMP_EQUAL, call as u32, 0, 4));
        code.push(statement(LOAD_WORD, ARG0_LOW));
        code.push(jump(JUMP_ANY_BIT, NAMESPACE_FLAGS, 0, 1));
        code.push(statement(RETURN, EPERM));
        code.push(statement(RETURN, ALLOW));
    }
    // The sends whose flags may ask for a TCP Fast Open: the flags' register.
    for (call, flags) in [
        (libc::SYS_sendto, ARG3_LOW),
        (libc::SYS_sendmmsg, ARG3_LOW),
        (libc::SYS_sendmsg, ARG2_LOW),
    ] {
        code.push(jump(JUMP_EQUAL, call as u32, 0, 4));
        code.push(statement(LOAD_WORD, flags));
        code.push(jump(JUMP_ANY_BIT, libc::MSG_FASTOPEN as u32, 0, 1));
        code.push(statement(RETURN, EPERM));
        code.push(statement(RETURN, ALLOW));
    }
    // socket and socketpair: the family in the first argument; each allowed family jumps
    // over the refusal to the `ALLOW` after it (an internet `socket`, with `TcpOnly`, to
    // the check of its kind first).
    code.extend(socket_families(libc::SYS_socket, sockets));
    // A pair of connected stream or sequenced-packet sockets reaches no one else; a
    // datagram pair could still `sendto` a named socket: refused with `PairsOnly`.
    if sockets.unix == Unix::PairsOnly {
        code.extend([
            jump(JUMP_EQUAL, libc::SYS_socketpair as u32, 0, 5),
            statement(LOAD_WORD, ARG1_LOW),
            statement(AND, SOCKET_KIND_MASK),
            jump(JUMP_EQUAL, libc::SOCK_STREAM as u32, 2, 0),
            jump(JUMP_EQUAL, libc::SOCK_SEQPACKET as u32, 1, 0),
            statement(RETURN, EACCES),
        ]);
    }
    code.extend(socket_families(libc::SYS_socketpair, Sockets::default()));
    // prlimit64(pid, ...): only its own limits (pid 0, as the C library's setrlimit asks).
    code.push(jump(JUMP_EQUAL, libc::SYS_prlimit64 as u32, 0, 6));
    code.push(statement(LOAD_WORD, ARG0_LOW));
    code.push(jump(JUMP_EQUAL, 0, 0, 2));
    code.push(statement(LOAD_WORD, ARG0_HIGH));
    code.push(jump(JUMP_EQUAL, 0, 1, 0));
    code.push(statement(RETURN, EPERM));
    code.push(statement(RETURN, ALLOW));
    // setsockopt: no source route (IPv4's `IP_OPTIONS`, IPv6's routing headers, also
    // through RFC 2292's packet options): a datagram or a SYN sent to a loopback address
    // with one goes first to the route's host, past every check of its address.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_setsockopt as u32, 0, 11),
        statement(LOAD_WORD, ARG1_LOW),
        jump(JUMP_EQUAL, libc::IPPROTO_IP as u32, 0, 2),
        statement(LOAD_WORD, ARG2_LOW),
        jump(JUMP_EQUAL, libc::IP_OPTIONS as u32, 5, 6),
        jump(JUMP_EQUAL, libc::IPPROTO_IPV6 as u32, 0, 5),
        statement(LOAD_WORD, ARG2_LOW),
        jump(JUMP_EQUAL, libc::IPV6_RTHDR as u32, 2, 0),
        jump(JUMP_EQUAL, IPV6_2292RTHDR, 1, 0),
        jump(JUMP_EQUAL, IPV6_2292PKTOPTIONS, 0, 1),
        statement(RETURN, EPERM),
        statement(RETURN, ALLOW),
    ]);
    code.push(jump(JUMP_EQUAL, libc::SYS_ioctl as u32, 0, 4));
    code.push(statement(LOAD_WORD, ARG1_LOW));
    code.push(jump(JUMP_EQUAL, TIOCSTI, 0, 1));
    code.push(statement(RETURN, EPERM));
    code.push(statement(RETURN, ALLOW));
    code.push(statement(RETURN, ALLOW));
    code
}

/// `call`'s test of the socket's family (and, for an internet socket with `TcpOnly`, of
/// its kind and protocol), which returns its verdict or falls through to what follows.
fn socket_families(call: libc::c_long, sockets: Sockets) -> Vec<Instruction> {
    let families = SOCKET_FAMILIES.len() as u8;
    // After the families' tests: the refusal, then (with `TcpOnly`) the internet
    // families' check, then `ALLOW`.
    let tcp_check: Vec<Instruction> = match sockets.internet {
        Internet::Any => Vec::new(),
        Internet::TcpAndDatagrams => vec![
            statement(LOAD_WORD, ARG1_LOW),
            statement(AND, SOCKET_KIND_MASK),
            jump(JUMP_EQUAL, libc::SOCK_DGRAM as u32, 5, 0),
            jump(JUMP_EQUAL, libc::SOCK_STREAM as u32, 0, 3),
            statement(LOAD_WORD, ARG2_LOW),
            jump(JUMP_EQUAL, 0, 2, 0),
            jump(JUMP_EQUAL, libc::IPPROTO_TCP as u32, 1, 0),
            statement(RETURN, EACCES),
        ],
        Internet::Refused => vec![statement(RETURN, EACCES)],
        Internet::TcpOnly => vec![
            statement(LOAD_WORD, ARG1_LOW),
            statement(AND, SOCKET_KIND_MASK),
            jump(JUMP_EQUAL, libc::SOCK_STREAM as u32, 0, 3),
            statement(LOAD_WORD, ARG2_LOW),
            jump(JUMP_EQUAL, 0, 2, 0),
            jump(JUMP_EQUAL, libc::IPPROTO_TCP as u32, 1, 0),
            statement(RETURN, EACCES),
        ],
    };
    // Before them (with `PairsOnly`): a unix socket refused.
    let unix_check: Vec<Instruction> = match sockets.unix {
        Unix::Any => Vec::new(),
        Unix::PairsOnly => vec![
            jump(JUMP_EQUAL, libc::AF_UNIX as u32, 0, 1),
            statement(RETURN, EACCES),
        ],
    };
    let checked = tcp_check.len() as u8;
    let mut code = vec![
        jump(
            JUMP_EQUAL,
            call as u32,
            0,
            families + 3 + checked + unix_check.len() as u8,
        ),
        statement(LOAD_WORD, ARG0_LOW),
    ];
    code.extend(unix_check);
    for (index, family) in SOCKET_FAMILIES.iter().enumerate() {
        let internet_family = family == &libc::AF_INET || family == &libc::AF_INET6;
        // To the `ALLOW`, or to the check's first instruction.
        let over = families - index as u8 + if internet_family { 0 } else { checked };
        code.push(jump(JUMP_EQUAL, *family as u32, over, 0));
    }
    code.push(statement(RETURN, EAFNOSUPPORT));
    code.extend(tcp_check);
    code.push(statement(RETURN, ALLOW));
    code
}

/// Installs the filter on this process (and everything it will fork or execute). Needs
/// `no_new_privs` first, or `CAP_SYS_ADMIN`.
pub(crate) fn install(sockets: Sockets) -> io::Result<()> {
    install_program(&program(sockets))
}

/// Installs a filter's `code` on this process (on top of any before it).
pub(crate) fn install_program(code: &[Instruction]) -> io::Result<()> {
    let filter = libc::sock_fprog {
        len: code.len() as u16,
        filter: code.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the program lives across the call, with its length; the kernel copies it.
    let result = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &filter as *const libc::sock_fprog,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_fits_the_kernels_limit_and_ends_in_a_return() {
        for internet in [
            Internet::Any,
            Internet::TcpOnly,
            Internet::TcpAndDatagrams,
            Internet::Refused,
        ] {
            let unix = Unix::PairsOnly;
            let code = program(Sockets { internet, unix });
            // BPF_MAXINSNS.
            assert!(code.len() <= 4096, "{} instructions", code.len());
            assert_eq!(code.last().map(|last| last.code), Some(RETURN));
        }
    }

    #[test]
    fn every_refused_call_is_listed_once() {
        let calls = refused();
        let mut numbers: Vec<_> = calls.iter().map(|(number, _)| *number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), calls.len());
    }

    /// In a forked child (the filter cannot be removed): the filter refuses what it
    /// lists and lets the rest through.
    #[test]
    fn a_filtered_process_cannot_mount_or_unshare_but_can_fork() {
        // SAFETY: the child only makes system calls and exits with _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            // SAFETY: zeroed plain integers, filled by prlimit64.
            let mut limit: libc::rlimit64 = unsafe { std::mem::zeroed() };
            let verdict = unsafe {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || install(Sockets::default()).is_err()
                {
                    1
                } else if libc::mount(
                    c"none".as_ptr(),
                    c"/".as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    std::ptr::null(),
                ) == 0
                    || *libc::__errno_location() != libc::EPERM
                {
                    2
                } else if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                    3
                } else if libc::syscall(libc::SYS_clone3, 0, 0) == 0
                    || *libc::__errno_location() != libc::ENOSYS
                {
                    4
                } else if libc::socket(libc::AF_VSOCK, libc::SOCK_STREAM, 0) >= 0
                    || *libc::__errno_location() != libc::EAFNOSUPPORT
                {
                    6
                } else if fast_open_refused_and_plain_sockets_made() != 0 {
                    7
                } else if libc::syscall(
                    libc::SYS_prlimit64,
                    libc::getppid(),
                    libc::RLIMIT_CPU,
                    std::ptr::null::<libc::rlimit64>(),
                    std::ptr::null_mut::<libc::rlimit64>(),
                ) == 0
                    || *libc::__errno_location() != libc::EPERM
                {
                    8
                } else if libc::prlimit64(0, libc::RLIMIT_NOFILE, std::ptr::null(), &mut limit) != 0
                {
                    9
                } else {
                    let pid = libc::fork();
                    if pid == 0 {
                        libc::_exit(0);
                    }
                    let mut status = 0;
                    if pid < 0 || libc::waitpid(pid, &mut status, 0) != pid {
                        5
                    } else {
                        0
                    }
                }
            };
            unsafe { libc::_exit(verdict) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(child, &mut status, 0) };
        assert!(libc::WIFEXITED(status), "status {status}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "failed at check number");
    }

    /// In forked children: with `TcpOnly` an internet socket is TCP or nothing (`EACCES`),
    /// whatever flags ride on its kind, and every other family is as before; with
    /// `TcpAndDatagrams` TCP or a datagram socket and nothing else; with `Any`,
    /// UDP is made. With `PairsOnly` no unix socket is made, and a stream `socketpair` is.
    #[test]
    fn a_tcp_only_process_makes_tcp_and_no_other_internet_socket_and_pairs_only_no_unix_one() {
        use libc::{AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, IPPROTO_TCP, IPPROTO_UDP};
        use libc::{SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_STREAM};
        let refused = libc::EACCES;
        let (any, tcp) = (Internet::Any, Internet::TcpOnly);
        let both = Internet::TcpAndDatagrams;
        let none = Internet::Refused;
        let pairs = Unix::PairsOnly;
        let cases: [(
            Internet,
            Unix,
            libc::c_int,
            libc::c_int,
            libc::c_int,
            libc::c_int,
        ); 23] = [
            (none, Unix::Any, AF_INET, SOCK_STREAM, 0, refused),
            (none, Unix::Any, AF_INET6, SOCK_DGRAM, 0, refused),
            (none, Unix::Any, AF_UNIX, SOCK_STREAM, 0, 0),
            (tcp, Unix::Any, AF_INET, SOCK_STREAM, 0, 0),
            (
                tcp,
                Unix::Any,
                AF_INET6,
                SOCK_STREAM | SOCK_NONBLOCK,
                IPPROTO_TCP,
                0,
            ),
            (
                tcp,
                Unix::Any,
                AF_INET,
                SOCK_STREAM | SOCK_CLOEXEC,
                IPPROTO_TCP,
                0,
            ),
            (tcp, Unix::Any, AF_INET, SOCK_DGRAM, 0, refused),
            (
                tcp,
                Unix::Any,
                AF_INET6,
                SOCK_DGRAM | SOCK_CLOEXEC,
                IPPROTO_UDP,
                refused,
            ),
            (
                tcp,
                Unix::Any,
                AF_INET,
                SOCK_DGRAM,
                libc::IPPROTO_ICMP,
                refused,
            ),
            (
                tcp,
                Unix::Any,
                AF_INET,
                SOCK_STREAM,
                libc::IPPROTO_SCTP,
                refused,
            ),
            (
                tcp,
                Unix::Any,
                AF_INET,
                SOCK_STREAM,
                262, /* MPTCP */
                refused,
            ),
            (tcp, Unix::Any, AF_UNIX, SOCK_DGRAM, 0, 0),
            (tcp, Unix::Any, AF_NETLINK, SOCK_RAW, 0, 0),
            (any, Unix::Any, AF_INET, SOCK_DGRAM, 0, 0),
            (any, Unix::Any, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, 0),
            (any, pairs, AF_UNIX, SOCK_STREAM, 0, refused),
            (tcp, pairs, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, refused),
            (tcp, pairs, AF_INET, SOCK_STREAM, 0, 0),
            (both, Unix::Any, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, 0),
            (both, Unix::Any, AF_INET, SOCK_DGRAM, 0, 0),
            (
                both,
                Unix::Any,
                AF_INET6,
                SOCK_DGRAM | SOCK_CLOEXEC,
                IPPROTO_UDP,
                0,
            ),
            (
                both,
                Unix::Any,
                AF_INET,
                SOCK_STREAM,
                libc::IPPROTO_SCTP,
                refused,
            ),
            (both, Unix::Any, AF_INET, libc::SOCK_SEQPACKET, 0, refused),
        ];
        for (internet, unix, family, kind, protocol, error) in cases {
            // SAFETY: the child only makes system calls and exits with _exit.
            let child = unsafe { libc::fork() };
            assert!(child >= 0);
            if child == 0 {
                let verdict = unsafe {
                    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                        || install(Sockets { internet, unix }).is_err()
                    {
                        255
                    } else if unix == Unix::PairsOnly && {
                        let mut pair = [0; 2];
                        let mut made =
                            |kind| libc::socketpair(libc::AF_UNIX, kind, 0, pair.as_mut_ptr()) == 0;
                        // Stream and sequenced-packet pairs made; a datagram pair, which
                        // could `sendto` a named socket, refused.
                        !made(libc::SOCK_STREAM)
                            || !made(libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC)
                            || made(libc::SOCK_DGRAM)
                            || *libc::__errno_location() != libc::EACCES
                    } {
                        254
                    } else {
                        let fd = libc::socket(family, kind, protocol);
                        // An error other than the filter's (no SCTP in this kernel) is
                        // the kernel's: the filter let it through.
                        match (fd >= 0, *libc::__errno_location()) {
                            (true, _) => 0,
                            (false, libc::EACCES) => libc::EACCES,
                            (false, _) => 0,
                        }
                    }
                };
                unsafe { libc::_exit(verdict) };
            }
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(child, &mut status, 0) };
            assert!(libc::WIFEXITED(status), "status {status}");
            assert_eq!(
                libc::WEXITSTATUS(status),
                error,
                "{internet:?} {unix:?} socket({family}, {kind:#x}, {protocol})"
            );
        }
    }

    /// In the filtered child: a send asking for a TCP Fast Open is refused before it
    /// connects, and the families the labs use still make sockets. 0, or which failed.
    fn fast_open_refused_and_plain_sockets_made() -> i32 {
        for family in SOCKET_FAMILIES {
            let kind = if family == libc::AF_NETLINK {
                libc::SOCK_RAW
            } else {
                libc::SOCK_STREAM
            };
            // SAFETY: socket and close with plain integers.
            let fd = unsafe { libc::socket(family, kind, 0) };
            if fd < 0 {
                return 10 + family;
            }
            unsafe { libc::close(fd) };
        }
        // SAFETY: a local address and buffer for sendto; the socket is ours.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            let mut address: libc::sockaddr_in = std::mem::zeroed();
            address.sin_family = libc::AF_INET as libc::sa_family_t;
            address.sin_port = 9u16.to_be();
            address.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let sent = libc::sendto(
                fd,
                b"x".as_ptr().cast(),
                1,
                libc::MSG_FASTOPEN,
                (&address as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            let refused = sent < 0 && *libc::__errno_location() == libc::EPERM;
            libc::close(fd);
            if !refused {
                return 1;
            }
        }
        // No source route on a socket (a loose one through 192.0.2.10, and an IPv6
        // routing header), while other options are set as ever.
        // SAFETY: setsockopt reads the buffers it is given; the sockets are ours.
        unsafe {
            let set = |fd: i32, level: i32, name: i32, value: &[u8]| {
                libc::setsockopt(fd, level, name, value.as_ptr().cast(), value.len() as u32)
            };
            let udp = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
            let route = [0x83, 7, 4, 192, 0, 2, 10, 0];
            if set(udp, libc::IPPROTO_IP, libc::IP_OPTIONS, &route) == 0 {
                return 2;
            }
            if set(udp, libc::IPPROTO_IP, libc::IP_TOS, &16i32.to_ne_bytes()) != 0 {
                return 3;
            }
            libc::close(udp);
            let udp6 = libc::socket(libc::AF_INET6, libc::SOCK_DGRAM, 0);
            if udp6 >= 0 {
                let header = [0u8; 8];
                for name in [
                    libc::IPV6_RTHDR,
                    IPV6_2292RTHDR as i32,
                    IPV6_2292PKTOPTIONS as i32,
                ] {
                    if set(udp6, libc::IPPROTO_IPV6, name, &header) == 0
                        || *libc::__errno_location() != libc::EPERM
                    {
                        return 4;
                    }
                }
                libc::close(udp6);
            }
        }
        0
    }
}
