//! Starting `sandbox-init` without copying the harness: `posix_spawn`.
//!
//! `fork` copies the whole harness's page tables into the child (hundreds of megabytes
//! of mappings while eight scenarios run), marks every page it has written copy-on-write,
//! so that the harness faults on each page it writes next, and the child's `exec` then
//! throws the copy away. The standard library avoids it with `posix_spawn` only when
//! nothing runs between fork and exec, and a program's start needs two things there: a
//! session of its own, and the report's descriptor kept open across the `exec`. glibc's
//! `posix_spawn` does both in the child it starts with `CLONE_VM | CLONE_VFORK` (sharing
//! the harness's memory until the `exec`, nothing copied): `POSIX_SPAWN_SETSID`, and
//! `posix_spawn_file_actions_adddup2(fd, fd)`, which clears that descriptor's
//! close-on-exec flag in the child alone (glibc 2.29 and later), so no other child the
//! harness starts at the same moment inherits it. Measured on the good sample: `fork`, its
//! page faults and the `exec` that discarded the copy were a seventh of the whole run's
//! processor time.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

/// What the program reads as its standard input.
pub enum Input {
    /// `/dev/null`.
    Null,
    /// A pipe whose writing end the harness gets ([`Spawned::stdin`]).
    Piped,
    /// This file.
    File(File),
}

/// A started program: its process id, and the harness's ends of its standard streams.
pub struct Spawned {
    /// Its process id, also its session's and its process group's.
    pub pid: libc::pid_t,
    /// The writing end of its stdin, for [`Input::Piped`].
    pub stdin: Option<File>,
    /// The reading end of its stdout.
    pub stdout: File,
    /// The reading end of its stderr.
    pub stderr: File,
}

impl Spawned {
    /// Waits for it to end (for a caller that has no reaper of its own).
    pub fn wait(&self) -> io::Result<std::process::ExitStatus> {
        use std::os::unix::process::ExitStatusExt;
        let mut status = 0;
        loop {
            // SAFETY: waits for our own child; `status` is valid for writes.
            if unsafe { libc::waitpid(self.pid, &mut status, 0) } == self.pid {
                return Ok(std::process::ExitStatus::from_raw(status));
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }

    /// A child the standard library started (stdout and stderr piped).
    pub fn from_child(mut child: std::process::Child) -> Spawned {
        let stdin = child
            .stdin
            .take()
            .map(|pipe| File::from(OwnedFd::from(pipe)));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Spawned {
            pid: child.id() as libc::pid_t,
            stdin,
            stdout: File::from(OwnedFd::from(stdout)),
            stderr: File::from(OwnedFd::from(stderr)),
        }
    }
}

/// Starts `command`'s program (an absolute path) with its arguments, in its working
/// folder, with exactly the environment it sets (an `env_clear`ed command), in a session of
/// its own, stdout and stderr piped to the harness, every descriptor of `kept` open in it
/// under the same number, and every signal's disposition the default one but for those it
/// catches (none, at an `exec`). Nothing the command says between fork and exec runs: it
/// has nothing there.
pub fn without_fork(command: &Command, input: Input, kept: &[RawFd]) -> io::Result<Spawned> {
    let program = c_string(command.get_program())?;
    let mut argv = vec![program.clone()];
    for argument in command.get_args() {
        argv.push(c_string(argument)?);
    }
    let mut environment = Vec::new();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            let mut pair = name.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            environment.push(CString::new(pair).map_err(io::Error::other)?);
        }
    }
    let workdir = command
        .get_current_dir()
        .map(|dir| c_string(dir.as_os_str()))
        .transpose()?;

    let (stdin_read, stdin_write) = match input {
        Input::Null => (OwnedFd::from(File::open("/dev/null")?), None),
        Input::Piped => {
            let (read, write) = pipe()?;
            (read, Some(write))
        }
        Input::File(file) => (OwnedFd::from(file), None),
    };
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;

    let mut actions = FileActions::new()?;
    actions.dup2(stdin_read.as_raw_fd(), 0)?;
    actions.dup2(stdout_write.as_raw_fd(), 1)?;
    actions.dup2(stderr_write.as_raw_fd(), 2)?;
    for &fd in kept {
        // The same number: glibc clears its close-on-exec flag in the child.
        actions.dup2(fd, fd)?;
    }
    if let Some(dir) = &workdir {
        // SAFETY: the actions are initialised; glibc copies the path.
        check(unsafe { libc::posix_spawn_file_actions_addchdir_np(&mut actions.0, dir.as_ptr()) })?;
    }
    let attributes = Attributes::new()?;

    let mut pointers: Vec<*mut libc::c_char> = argv
        .iter()
        .map(|argument| argument.as_ptr().cast_mut())
        .collect();
    pointers.push(std::ptr::null_mut());
    let mut environment_pointers: Vec<*mut libc::c_char> = environment
        .iter()
        .map(|pair| pair.as_ptr().cast_mut())
        .collect();
    environment_pointers.push(std::ptr::null_mut());
    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is to a NUL-terminated string alive until the call returns,
    // both lists end with a null pointer, and the actions and attributes are initialised.
    // glibc's posix_spawn returns once the child has executed the program (or failed to,
    // with the error as its result).
    check(unsafe {
        libc::posix_spawn(
            &mut pid,
            program.as_ptr(),
            &actions.0,
            &attributes.0,
            pointers.as_ptr(),
            environment_pointers.as_ptr(),
        )
    })?;
    // The child's ends are the child's alone now.
    drop((stdin_read, stdout_write, stderr_write));
    Ok(Spawned {
        pid,
        stdin: stdin_write.map(File::from),
        stdout: File::from(stdout_read),
        stderr: File::from(stderr_read),
    })
}

fn c_string(text: &OsStr) -> io::Result<CString> {
    CString::new(text.as_bytes()).map_err(io::Error::other)
}

/// A pipe, both ends closed on exec: (reading end, writing end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut ends = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array, which this function then owns.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are open descriptors nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) })
}

/// A `posix_spawn` function's result: 0, or the error number itself.
fn check(result: libc::c_int) -> io::Result<()> {
    match result {
        0 => Ok(()),
        error => Err(io::Error::from_raw_os_error(error)),
    }
}

/// `posix_spawn_file_actions_t`, destroyed when dropped.
struct FileActions(libc::posix_spawn_file_actions_t);

impl FileActions {
    fn new() -> io::Result<FileActions> {
        // SAFETY: an all-zero value is only storage; init makes it a valid set of actions.
        let mut actions = FileActions(unsafe { std::mem::zeroed() });
        check(unsafe { libc::posix_spawn_file_actions_init(&mut actions.0) })?;
        Ok(actions)
    }

    fn dup2(&mut self, fd: RawFd, target: RawFd) -> io::Result<()> {
        // SAFETY: the actions are initialised; the call only records the step.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut self.0, fd, target) })
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

/// `posix_spawnattr_t`: a session of its own, no signal blocked, `SIGPIPE` (which the
/// harness ignores, as every Rust program does) back to its default.
struct Attributes(libc::posix_spawnattr_t);

impl Attributes {
    fn new() -> io::Result<Attributes> {
        // SAFETY: an all-zero value is only storage; init makes it valid, and every call
        // below reads or writes only the sets and the attributes it is given.
        unsafe {
            let mut attributes = Attributes(std::mem::zeroed());
            check(libc::posix_spawnattr_init(&mut attributes.0))?;
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            check(libc::posix_spawnattr_setsigmask(&mut attributes.0, &none))?;
            let mut defaults: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut defaults);
            libc::sigaddset(&mut defaults, libc::SIGPIPE);
            check(libc::posix_spawnattr_setsigdefault(
                &mut attributes.0,
                &defaults,
            ))?;
            let flags = libc::POSIX_SPAWN_SETSID
                | libc::POSIX_SPAWN_SETSIGMASK as libc::c_short
                | libc::POSIX_SPAWN_SETSIGDEF as libc::c_short;
            check(libc::posix_spawnattr_setflags(&mut attributes.0, flags))?;
            Ok(attributes)
        }
    }
}

impl Drop for Attributes {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, destroyed once.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A shell running `script`, with one variable and `/` as its working folder.
    fn shell(script: &str) -> Command {
        let mut command = Command::new("/bin/sh");
        command
            .args(["-c", script])
            .env_clear()
            .env("GREETING", "hello")
            .current_dir("/");
        command
    }

    #[test]
    fn a_program_gets_its_session_its_streams_its_folder_and_the_kept_descriptor() {
        let (report_read, low) = pipe().unwrap();
        // A number far above the streams', as the harness's kept descriptors are; the
        // script writes it through `/proc`, since dash's `>&N` takes one digit only.
        // SAFETY: duplicates an open descriptor; the new one is owned just below.
        let high = unsafe { libc::fcntl(low.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 100) };
        assert!(high >= 100, "{}", io::Error::last_os_error());
        drop(low);
        // SAFETY: `high` is open and nothing else owns it.
        let report_write = unsafe { OwnedFd::from_raw_fd(high) };
        let kept = report_write.as_raw_fd();
        let script = format!(
            "read line; echo \"$line $GREETING $(pwd)\"; echo report > /proc/$$/fd/{kept}; \
             read -r _ _ _ _ _ sid _ < /proc/$$/stat; echo $sid $$ >&2"
        );
        let spawned = without_fork(&shell(&script), Input::Piped, &[kept]).expect("/bin/sh starts");
        drop(report_write);
        let mut stdin = spawned.stdin.unwrap();
        stdin.write_all(b"in\n").unwrap();
        drop(stdin);
        let mut out = String::new();
        (&spawned.stdout).read_to_string(&mut out).unwrap();
        let mut err = String::new();
        (&spawned.stderr).read_to_string(&mut err).unwrap();
        let mut report = String::new();
        File::from(report_read).read_to_string(&mut report).unwrap();
        let mut status = 0;
        // SAFETY: waits for our own child.
        assert_eq!(
            unsafe { libc::waitpid(spawned.pid, &mut status, 0) },
            spawned.pid
        );
        assert_eq!(out, "in hello /\n");
        assert_eq!(report, "report\n");
        // Its session is its own: the session id is its process id.
        let lines: Vec<&str> = err.split_whitespace().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert_eq!(lines[0], lines[1], "session and pid: {err}");
        assert_eq!(lines[1], spawned.pid.to_string());
    }

    #[test]
    fn a_program_that_cannot_be_run_is_an_error_of_the_start() {
        let command = Command::new("/no/such/program");
        let error = without_fork(&command, Input::Null, &[])
            .err()
            .expect("no such program");
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
    }
}
