//! Starting the program, reaping everything, reporting its exit.
//!
//! With a PID namespace, this process stays outside and forks the namespace's PID 1,
//! which forks the program; without one, this process forks the program itself. Whoever
//! forked the program waits for it with `wait4`, writes its status and peak memory to the
//! report descriptor, and exits with the program's status.
//!
//! Signals: the harness asks a program to stop with SIGTERM to its whole process group,
//! which reaches the program itself. The processes here ignore it (and its kin), so that
//! they outlive the program and report how it ended. They are blocked across each fork so
//! that none arrives before it is ignored, and unblocked in the program before `exec`,
//! with their default actions.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

/// The signals the supervising processes ignore.
const IGNORED: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT];

/// Runs `program` to its end; never returns normally in the processes it forks.
pub(crate) fn run(
    program: &[OsString],
    report_fd: Option<i32>,
    privilege: &crate::privilege::Drop,
    pid_namespace: bool,
    trace: Option<crate::trace::Plan>,
    own_mounts: Option<&crate::mounts::Late>,
    watch: &crate::watch::Caps,
) -> ExitCode {
    let argv = match program
        .iter()
        .map(|word| CString::new(word.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(argv) => argv,
        Err(_) => {
            eprintln!("sandbox-init: the command line holds a NUL byte");
            return ExitCode::from(125);
        }
    };
    watch_the_harness();
    if pid_namespace {
        // A PID namespace for the children of this process, and IPC, UTS and cgroup
        // namespaces of its own from now on: no System V object (a shared-memory
        // segment) outlives the program or is seen by another, a host name it sets is
        // its own, and its cgroup is the root of the tree it sees (it cannot name, let
        // alone join, a cgroup above its own).
        let namespaces =
            libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWCGROUP;
        // SAFETY: unshare takes only flags; this process has one thread.
        if unsafe { libc::unshare(namespaces) } != 0 {
            eprintln!(
                "sandbox-init: cannot make the PID, IPC, UTS and cgroup namespaces: {}",
                io::Error::last_os_error()
            );
            return ExitCode::from(125);
        }
        let init = fork_with_signals_blocked();
        if init == 0 {
            // PID 1 of the new namespace. Its own /proc, where it has its own mounts:
            // the program then sees its own processes only (not the harness's).
            if let Some(late) = own_mounts {
                // SAFETY: mounting proc in this process's own mount namespace.
                unsafe {
                    libc::mount(
                        c"proc".as_ptr(),
                        c"/proc".as_ptr(),
                        c"proc".as_ptr(),
                        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                        std::ptr::null(),
                    );
                }
                // The harness's files over the new /proc's (`/proc/cpuinfo`).
                if let Err(message) = crate::mounts::attach_late(late) {
                    eprintln!("sandbox-init: {message}");
                    // SAFETY: _exit ends this process (and, as PID 1, the namespace).
                    unsafe { libc::_exit(125) };
                }
            }
            // The watcher walks the namespace's own `/proc`, which only a view mounts.
            let unwatched = crate::watch::Caps::default();
            start_and_wait(
                &argv,
                report_fd,
                privilege,
                trace,
                true,
                if own_mounts.is_some() {
                    watch
                } else {
                    &unwatched
                },
            );
        }
        if init < 0 {
            eprintln!("sandbox-init: cannot fork: {}", io::Error::last_os_error());
            return ExitCode::from(125);
        }
        // Outside: the harness's child. Its status is the program's (PID 1 passes it on).
        release_stdio();
        if let Some(fd) = report_fd {
            // SAFETY: closing our own copy; PID 1 writes the report.
            unsafe { libc::close(fd) };
        }
        let status = wait_for(init).0;
        mirror(status);
    }
    // No PID namespace: this process adopts every orphan of the program's (a daemon that
    // double-forked and called `setsid` included), and ends them all when it ends.
    // SAFETY: prctl with plain integers.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    start_and_wait(&argv, report_fd, privilege, trace, false, watch);
}

/// Ends every process of user `uid` (this process must be root): it becomes that user,
/// which may signal every process of its own, and kills them all at once. One pass is
/// enough: the kernel holds back every `fork` while it signals, and a process with a
/// `SIGKILL` pending forks no more.
pub(crate) fn end_user(uid: libc::uid_t) -> ExitCode {
    // SAFETY: plain system calls on our own process, which has one thread.
    unsafe {
        if uid == 0 || libc::setresuid(uid, uid, uid) != 0 {
            eprintln!(
                "sandbox-init: cannot become user {uid}: {}",
                io::Error::last_os_error()
            );
            return ExitCode::from(125);
        }
        libc::kill(-1, libc::SIGKILL);
    }
    ExitCode::SUCCESS
}

/// Kills every descendant this process has adopted as their subreaper, and reaps them,
/// until none is left: a process killed here leaves its own children to this process.
fn end_descendants() {
    loop {
        for pid in children() {
            // SAFETY: kill only sends a signal to a child of ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let mut status = 0;
        // SAFETY: waitpid fills our local.
        let reaped = unsafe { libc::waitpid(-1, &mut status, 0) };
        if reaped < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            // ECHILD: none is left.
            return;
        }
    }
}

/// This process's children.
fn children() -> Vec<libc::pid_t> {
    // SAFETY: getpid only reads our id.
    children_of(unsafe { libc::getpid() })
}

/// The children of `own` (a process of one thread): the kernel's list
/// (`/proc/PID/task/PID/children`), else every process whose parent is `own`.
pub(crate) fn children_of(own: libc::pid_t) -> Vec<libc::pid_t> {
    if let Ok(list) = std::fs::read_to_string(format!("/proc/{own}/task/{own}/children")) {
        return list
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .to_str()?
                .parse::<libc::pid_t>()
                .ok()
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // `pid (comm) state ppid ...`: the name may hold spaces and parentheses.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok())
                    == Some(own)
            })
        })
        .collect()
}

/// Forks the program, waits for it, reports, exits as it did. As PID 1 (`reap_all`), it
/// also reaps every orphan of the namespace until the program ends; its own exit then
/// makes the kernel kill whatever is left there. Otherwise, as the subreaper of the
/// program's processes, it kills what is left itself ([`end_descendants`]).
fn start_and_wait(
    argv: &[CString],
    report_fd: Option<i32>,
    privilege: &crate::privilege::Drop,
    trace: Option<crate::trace::Plan>,
    reap_all: bool,
    watch: &crate::watch::Caps,
) -> ! {
    // On a shared loopback, this process makes the program's calls that name an address
    // ([`crate::warden`]): it becomes fit for that before the program is forked.
    let warden_ports = privilege
        .walls
        .as_ref()
        .and_then(|walls| walls.tcp_ports.clone())
        .zip(privilege.warden);
    let handoff = match warden_ports.as_ref().map(|(_, mode)| {
        crate::warden::enter(privilege)?;
        crate::warden::Handoff::new(*mode, privilege.warden_counts.is_some())
            .map_err(|error| format!("cannot prepare the warden's handover: {error}"))
    }) {
        Some(Err(message)) => {
            eprintln!("sandbox-init: {message}");
            // SAFETY: _exit ends this process.
            unsafe { libc::_exit(125) };
        }
        Some(Ok(handoff)) => Some(handoff),
        None => None,
    };
    let handshake = match trace.map(|_| crate::trace::Handshake::new()) {
        Some(Err(error)) => {
            eprintln!("sandbox-init: cannot make a pipe: {error}");
            // SAFETY: _exit ends this process.
            unsafe { libc::_exit(125) };
        }
        Some(Ok(handshake)) => Some(handshake),
        None => None,
    };
    // A warden is undumpable; its child is born dumpable, so that the warden (and a tracer)
    // of the same user may reach it. Nothing of the program's runs before the fork.
    let dumpable = |yes: bool| {
        if handoff.is_some() {
            // SAFETY: prctl with plain integers.
            unsafe { libc::prctl(libc::PR_SET_DUMPABLE, libc::c_ulong::from(yes), 0, 0, 0) };
        }
    };
    let setup = match crate::setup_failure::Channel::new() {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("sandbox-init: cannot make a pipe: {error}");
            // SAFETY: _exit ends this process.
            unsafe { libc::_exit(125) };
        }
    };
    dumpable(true);
    let program = fork_with_signals_blocked();
    if program != 0 {
        dumpable(false);
    }
    if program < 0 {
        eprintln!("sandbox-init: cannot fork: {}", io::Error::last_os_error());
        // SAFETY: _exit ends this process.
        unsafe { libc::_exit(125) };
    }
    if program == 0 {
        setup.in_the_program();
        exec(
            argv,
            privilege,
            handshake.as_ref(),
            handoff.as_ref(),
            &setup,
        );
    }
    setup.in_the_waiter();
    if let Some(handshake) = handshake
        && let Err(message) = handshake.seize(program)
    {
        // The program ends without running (its side of the pipe closed unread).
        eprintln!("sandbox-init: {message}");
        wait_for(program);
        // SAFETY: _exit ends this process.
        unsafe { libc::_exit(125) };
    }
    let numbers = handoff.as_ref().map(crate::warden::Handoff::numbers);
    let listener = handoff.map(|handoff| handoff.receive());
    if let Some(Err(message)) = &listener {
        // The program ends without running (no word from this side).
        eprintln!("sandbox-init: {message}");
    }
    release_stdio();
    let watcher = crate::watch::Watcher::start(watch, privilege.user);
    // After the watcher's fork, which wants one thread.
    if let (Some(Ok(listener)), Some((ports, mode)), Some(numbers)) =
        (listener, warden_ports, numbers)
    {
        crate::warden::serve(listener, ports, mode, numbers, privilege.warden_counts);
    }
    let (status, max_rss_kib) = if let Some(plan) = trace {
        let ended = trace_until(program, plan, privilege.user);
        if reap_all {
            // SAFETY: as PID 1, -1 is every other process of the namespace.
            unsafe { libc::kill(-1, libc::SIGKILL) };
        }
        end_descendants();
        ended
    } else if reap_all {
        let ended = loop {
            let (pid, status, max_rss_kib) = wait_any();
            if pid == program || pid < 0 {
                break (status, max_rss_kib);
            }
        };
        // What is left in the namespace ends now, reaped here, so that its peak counts
        // below (the kernel would kill it when this process exits, unreaped).
        // SAFETY: as PID 1, -1 is every other process of the namespace.
        unsafe { libc::kill(-1, libc::SIGKILL) };
        end_descendants();
        ended
    } else {
        let ended = wait_for(program);
        end_descendants();
        ended
    };
    if let Some(fd) = report_fd {
        // The largest peak of any process reaped here: the program and whatever it left
        // (a child it never waited for), none of them forked from the large harness.
        // SAFETY: getrusage fills our local.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
        let mut line = format!(
            "status={status} maxrss_kib={max_rss_kib} tree_maxrss_kib={}",
            usage.ru_maxrss
        );
        match watcher.as_ref().and_then(crate::watch::Watcher::fired) {
            Some(crate::watch::Over::Memory) => line.push_str(" memory_watch_killed=1"),
            Some(crate::watch::Over::Disk) => line.push_str(" disk_watch_killed=1"),
            None => {}
        }
        line.push('\n');
        if let Some(why) = setup.said() {
            line.push_str(&format!("trouble {why}\n"));
        }
        // SAFETY: writing a buffer we own to our descriptor.
        unsafe {
            libc::write(fd, line.as_ptr().cast(), line.len());
            libc::close(fd);
        }
    }
    if reap_all {
        // PID 1 cannot die of most signals: pass a signal on as 128 + its number; the
        // report above has the exact status.
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        // SAFETY: _exit ends this process (and, as PID 1, the namespace).
        unsafe { libc::_exit(code) };
    }
    mirror(status);
}

/// In the program's process: default signals, nothing of the harness's privilege or
/// descriptors (the report's included, see [`crate::privilege`]), then `execvp`.
fn exec(
    argv: &[CString],
    privilege: &crate::privilege::Drop,
    traced: Option<&crate::trace::Handshake>,
    warden: Option<&crate::warden::Handoff>,
    setup: &crate::setup_failure::Channel,
) -> ! {
    // SAFETY: plain system calls on our own process.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        // Traced from here on, before anything of its own runs.
        if let Some(handshake) = traced
            && let Err(message) = handshake.wait_until_seized()
        {
            setup.fail(&message);
        }
        // Its calls that name an address go to the warden from here on.
        if let Some(handoff) = warden
            && let Err(message) = handoff.install()
        {
            setup.fail(&message);
        }
        if let Err(message) = crate::privilege::drop_everything(privilege, setup.kept()) {
            setup.fail(&message);
        }
        // Last: its stops go to the tracer, which seized this process above.
        if traced.is_some()
            && let Err(error) = crate::trace::install_filter()
        {
            setup.fail(&format!("cannot install the short calls' filter: {error}"));
        }
        // Should the process that supervises it die first (however it was made to), the
        // program dies too rather than run on unwatched; what it forked is ended with
        // every process of its user. (Set last: a change of user clears it.)
        let parent = libc::getppid();
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != parent {
            setup.fail("the process that supervises the program ended before it ran");
        }
        let mut pointers: Vec<*const libc::c_char> =
            argv.iter().map(|word| word.as_ptr()).collect();
        pointers.push(std::ptr::null());
        // `ETXTBSY`: the program's file is still open for writing somewhere, typically
        // in a child another thread of the harness (or of a test) forked while the file
        // was being copied, which holds the descriptor until its own `exec` a moment
        // later. Tried again for up to a second rather than reported as a program that
        // cannot run.
        for _ in 0..50 {
            libc::execvp(pointers[0], pointers.as_ptr());
            if *libc::__errno_location() != libc::ETXTBSY {
                break;
            }
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 20_000_000,
            };
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
    }
    let error = io::Error::last_os_error();
    eprintln!(
        "sandbox-init: cannot run {}: {error}",
        argv[0].to_string_lossy()
    );
    let code = if error.kind() == io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    // SAFETY: _exit ends this process.
    unsafe { libc::_exit(code) };
}

/// `fork()` with the ignored signals blocked across it; the parent then ignores them and
/// unblocks them, the child keeps them blocked until `exec` (or its own fork) unblocks.
fn fork_with_signals_blocked() -> libc::pid_t {
    // SAFETY: signal masks and fork; this process has one thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in IGNORED {
            libc::sigaddset(&mut set, signal);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let pid = libc::fork();
        if pid > 0 {
            for signal in IGNORED {
                libc::signal(signal, libc::SIG_IGN);
            }
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        pid
    }
}

/// A supervising process holds no stdin or stdout: the harness sees the program's stdout
/// end when the program's own processes close it. Its stderr stays, for its own messages.
pub(crate) fn release_stdio() {
    // SAFETY: /dev/null over our own stdin and stdout.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// A descriptor of the harness that started this process (`pidfd_open` of its parent at
/// the start), or -1: when the harness dies (even of `SIGKILL`), what this process waits
/// for is killed, and everything below it after (see [`wait_for`]).
static HARNESS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// Opens [`HARNESS`], before anything is forked.
pub(crate) fn watch_the_harness() {
    // SAFETY: getppid reads our parent's id; pidfd_open returns a descriptor of it.
    let fd = unsafe {
        let parent = libc::getppid();
        if parent <= 1 {
            return;
        }
        libc::syscall(libc::SYS_pidfd_open, parent, 0) as i32
    };
    if fd >= 0 {
        // SAFETY: fcntl on our own descriptor: the program must not inherit it.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        HARNESS.store(fd, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Until `pid` ends: if the harness ends first, `pid` is killed (a harness killed with
/// `SIGKILL` leaves no program behind; a parent-death signal would fire when the harness's
/// *thread* that started this one ends, which may be long before the harness does).
fn kill_if_the_harness_ends(pid: libc::pid_t) {
    let harness = HARNESS.load(std::sync::atomic::Ordering::Relaxed);
    if harness < 0 {
        return;
    }
    // SAFETY: pidfd_open of our own child.
    let child = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
    if child < 0 {
        return;
    }
    loop {
        let mut fds = [
            libc::pollfd {
                fd: child,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: harness,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll fills the two entries of our array.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        if ready > 0 && fds[0].revents == 0 && fds[1].revents != 0 {
            // SAFETY: a signal to our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        break;
    }
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(child) };
}

/// Waits for `pid`: its status and peak resident size in KiB.
fn wait_for(pid: libc::pid_t) -> (libc::c_int, i64) {
    kill_if_the_harness_ends(pid);
    loop {
        let mut status = 0;
        // SAFETY: wait4 fills our two locals.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if result == pid {
            return (status, usage.ru_maxrss);
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return (0, 0);
        }
    }
}

/// Traces the program and everything it forks until the program ends (its status and
/// peak in KiB), cutting their calls as the tracer's plan says. The harness's end is
/// watched by a thread of its own: this one waits for every tracee's stops.
fn trace_until(
    program: libc::pid_t,
    plan: crate::trace::Plan,
    user: Option<(u32, u32)>,
) -> (libc::c_int, i64) {
    // Without the thread (none could be made) the program runs on after a harness that was
    // killed, until its own end or its limits: as rare as a failed fork, and no reason to
    // grade nothing.
    let _ = std::thread::Builder::new().spawn(move || kill_if_the_harness_ends(program));
    let mut tracer = crate::trace::Tracer::new(plan, user);
    loop {
        let mut status = 0;
        // SAFETY: wait4 fills our two locals.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(-1, &mut status, libc::__WALL, &mut usage) };
        if pid < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            // ECHILD: the program is gone without a status.
            return (0, 0);
        }
        if libc::WIFSTOPPED(status) {
            tracer.on_stop(pid, status);
            continue;
        }
        tracer.forget(pid);
        if pid == program {
            return (status, usage.ru_maxrss);
        }
    }
}

/// Waits for any child: its pid (-1 when none is left), status and peak in KiB.
fn wait_any() -> (libc::pid_t, libc::c_int, i64) {
    loop {
        let mut status = 0;
        // SAFETY: wait4 fills our two locals.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let result = unsafe { libc::wait4(-1, &mut status, 0, &mut usage) };
        if result >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return (result, status, usage.ru_maxrss);
        }
    }
}

/// Ends this process as `status` says the program ended: the same exit code, or death by
/// the same signal (no core dump: the harness sets that limit to 0).
fn mirror(status: libc::c_int) -> ! {
    // SAFETY: signal disposition, raise and _exit on our own process.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            125
        });
    }
}
