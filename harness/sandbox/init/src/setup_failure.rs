//! How the program's process tells the process that waits for it that the sandbox failed
//! before the program ran, so that the harness blames itself, not the student.
//!
//! Between the fork and the `exec`, the program's process does the sandbox's last work (it
//! waits to be traced, hands the warden its calls, drops every privilege, raises its
//! walls). Should any of that fail, it ends with status 125, which a program of a student's
//! may also end with. So it also writes why into a pipe that only it and the process
//! waiting for it hold: close-on-exec, the pipe closes unwritten when the program starts.
//! Once the program has ended, the waiting process reads what the pipe holds (never
//! blocking: every writing end is closed by then) and adds it to its report
//! (`trouble <why>`, a line of its own). The student's program cannot write there: the
//! pipe is gone before its first instruction.

use std::io;

/// The pipe, made before the fork.
pub(crate) struct Channel {
    read: libc::c_int,
    write: libc::c_int,
}

impl Channel {
    /// Made before the fork; both ends close on `exec`.
    pub(crate) fn new() -> io::Result<Channel> {
        let mut ends = [0; 2];
        // SAFETY: pipe2 fills the two descriptors.
        if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Channel {
            read: ends[0],
            write: ends[1],
        })
    }

    /// In the program's process: the descriptor its dropping of inherited descriptors must
    /// keep (the `exec` closes it).
    pub(crate) fn kept(&self) -> libc::c_int {
        self.write
    }

    /// In the program's process, after the fork: its copy of the reading end goes.
    pub(crate) fn in_the_program(&self) {
        // SAFETY: closing our own copy.
        unsafe { libc::close(self.read) };
    }

    /// In the program's process: says why the sandbox failed (on stderr too) and ends the
    /// process with status 125.
    pub(crate) fn fail(&self, message: &str) -> ! {
        eprintln!("sandbox-init: {message}");
        let line = one_line(message);
        // SAFETY: writing a buffer we own to our descriptor, then _exit.
        unsafe {
            libc::write(self.write, line.as_ptr().cast(), line.len());
            libc::_exit(125);
        }
    }

    /// In the waiting process, after the fork: its copy of the writing end goes, so that
    /// the pipe ends once the program's process has run or failed.
    pub(crate) fn in_the_waiter(&self) {
        // SAFETY: closing our own copy.
        unsafe { libc::close(self.write) };
    }

    /// In the waiting process, once the program's process has ended: why the sandbox
    /// failed in it, if it did.
    pub(crate) fn said(&self) -> Option<String> {
        let mut buffer = [0u8; 1024];
        // SAFETY: reading into our own buffer; every writing end is closed by now (the
        // program's at its exec or exit, ours after the fork): no wait.
        let read = unsafe { libc::read(self.read, buffer.as_mut_ptr().cast(), buffer.len()) };
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(self.read) };
        let read = usize::try_from(read).ok().filter(|&read| read > 0)?;
        Some(String::from_utf8_lossy(&buffer[..read]).into_owned())
    }
}

/// The message on one line, as the report's line holds it.
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the program's process said before it failed is read once it ended; a process
    /// that went on to `exec` says nothing.
    #[test]
    fn a_failure_before_the_exec_is_said_and_an_exec_says_nothing() {
        for fails in [true, false] {
            let channel = Channel::new().unwrap();
            // SAFETY: fork; the child only writes, execs or exits.
            let child = unsafe { libc::fork() };
            if child == 0 {
                channel.in_the_program();
                if fails {
                    channel.fail("cannot raise the walls:\nEPERM");
                }
                // SAFETY: exec of a program that exits at once.
                unsafe {
                    libc::execl(
                        c"/bin/true".as_ptr(),
                        c"true".as_ptr(),
                        std::ptr::null::<libc::c_char>(),
                    );
                    libc::_exit(127);
                }
            }
            channel.in_the_waiter();
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(child, &mut status, 0) };
            let said = channel.said();
            if fails {
                assert_eq!(libc::WEXITSTATUS(status), 125);
                assert_eq!(said.as_deref(), Some("cannot raise the walls: EPERM"));
            } else {
                assert_eq!(libc::WEXITSTATUS(status), 0);
                assert_eq!(said, None);
            }
        }
    }
}
