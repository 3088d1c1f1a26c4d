//! How a program's stdin and stdout are read and written, and why not with
//! `tokio::io::stdin()` and `tokio::io::stdout()`.
//!
//! A socket tells the runtime when it is ready (epoll), so tokio waits for it without a
//! thread. tokio's `Stdin` and `Stdout` cannot assume that of file descriptors 0 and 1
//! (they may be a file, a terminal, anything), so they hand every read and every write to
//! a pool of blocking threads and wait for the answer. With the handout's 4096-byte
//! buffer, 100 MB is 25,000 round trips between threads: measured on a 2-core machine, the
//! message client made ~49,000 futex calls and 5,500 `sched_yield`s for 24,000 sends, and
//! moved 100 MB 17 times slower than `nc`.
//!
//! So a program looks at what its stdin and stdout actually are (`fstat`) and picks the way
//! that costs nothing extra:
//!
//! - **A pipe, a FIFO or a socket** (the harness's pipes, `a | b`, inetd): made
//!   non-blocking and watched by the runtime like any socket ([`AsyncFd`]). A read is one
//!   `read` call when bytes are there, and waits in epoll when they are not. The original
//!   flags come back when the program drops the stream, since a pipe's flags are shared with
//!   whoever else holds it.
//! - **A regular file or a device that never makes anyone wait** (`< input.bin`,
//!   `> /dev/null`): read and written directly. The kernel answers at once, so there is
//!   nothing to wait for (and epoll refuses regular files: they are "always ready").
//! - **A terminal, or anything else**: tokio's own `Stdin` and `Stdout`. A terminal is
//!   shared with the shell, which must not find it non-blocking, and a person typing does
//!   not need the speed.
//!
//! A pipe on stdout is also asked to hold more than its default 64 KiB
//! (`STDOUT_PIPE_CAPACITY`: 256 KiB, with `F_SETPIPE_SZ`). A server gathers what it receives and
//! prints it 64 KiB at a time, so a default pipe holds exactly one such write: each write
//! fills it, and the next cannot start before the reader has emptied it. When the server and
//! its reader share one CPU they then take strict turns. Measured on 2 cores, 100 MB through
//! the message server: 123 ms with the default pipe, 87 ms with a 256 KiB one, against
//! `nc`'s 100 ms (both pinned to one CPU); 132 ms and 52 ms when the scheduler places them.
//! It is only a request: where the kernel refuses (a user over its pipe quota), the pipe
//! keeps its size and nothing else changes.
//!
//! The socket side does not change: the programs still read and write 4096 bytes at a
//! time and loop on short reads and writes; only the cost of waiting for stdio goes.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::FileTypeExt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use crate::STDIO_BUFFER_SIZE;
use crate::cli::{Input, Output};

/// What a pipe on stdout is asked to hold: four of the programs' 64 KiB writes, so that
/// the program can write the next while its reader is still reading the last.
const STDOUT_PIPE_CAPACITY: usize = 4 * STDIO_BUFFER_SIZE;

/// The process's stdin, read the cheapest way its kind allows. Must be called inside a
/// tokio runtime (the pollable kind registers with it).
pub fn stdin() -> Input {
    match open(io::stdin().as_fd(), Interest::READABLE) {
        Some(Stream::Pollable(stream)) => Box::new(stream),
        Some(Stream::Immediate(file)) => Box::new(Immediate(file)),
        None => Box::new(tokio::io::stdin()),
    }
}

/// The process's stdout, written the cheapest way its kind allows. Nothing is buffered:
/// every write reaches the file descriptor before it returns.
pub fn stdout() -> Output {
    grow_pipe(io::stdout().as_fd(), STDOUT_PIPE_CAPACITY);
    match open(io::stdout().as_fd(), Interest::WRITABLE) {
        Some(Stream::Pollable(stream)) => Box::new(stream),
        Some(Stream::Immediate(file)) => Box::new(Immediate(file)),
        None => Box::new(tokio::io::stdout()),
    }
}

/// Asks the kernel to let the pipe `fd` hold `capacity` bytes, if it is a pipe holding
/// less. A refusal is not an error: the pipe works as before, only with more waiting.
fn grow_pipe(fd: BorrowedFd<'_>, capacity: usize) {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETPIPE_SZ only reads the size of the pipe behind an open descriptor; on
    // anything that is not a pipe it fails with EBADF, and we leave it alone.
    let current = unsafe { libc::fcntl(raw, libc::F_GETPIPE_SZ) };
    let Ok(wanted) = libc::c_int::try_from(capacity) else {
        return;
    };
    if current > 0 && current < wanted {
        // SAFETY: F_SETPIPE_SZ changes only the capacity of the pipe behind `raw`.
        unsafe { libc::fcntl(raw, libc::F_SETPIPE_SZ, wanted) };
    }
}

enum Stream {
    Pollable(Pollable),
    Immediate(File),
}

/// A duplicate of `fd` as the kind of stream that suits it, or `None` for tokio's own
/// (a terminal, a closed descriptor, anything we cannot tell).
fn open(fd: BorrowedFd<'_>, interest: Interest) -> Option<Stream> {
    // A duplicate shares the open file (its offset, its flags) but closing it leaves
    // descriptor 0 or 1 open.
    let file = File::from(fd.try_clone_to_owned().ok()?);
    if file.is_terminal() {
        return None;
    }
    let kind = file.metadata().ok()?.file_type();
    if kind.is_fifo() || kind.is_socket() {
        // Registering needs a runtime to register with; outside one, tokio's own streams
        // (which find the runtime when they are first used) are the safe choice.
        tokio::runtime::Handle::try_current().ok()?;
        Pollable::new(file, interest).ok().map(Stream::Pollable)
    } else if kind.is_file() || kind.is_block_device() || kind.is_char_device() {
        // Character devices that are not terminals: /dev/null, /dev/zero, /dev/urandom.
        Some(Stream::Immediate(file))
    } else {
        None
    }
}

/// A file or device whose reads and writes never wait: called directly.
struct Immediate(File);

impl AsyncRead for Immediate {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let read = self.0.read(buffer.initialize_unfilled())?;
        buffer.advance(read);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Immediate {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.0.write(bytes))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A pipe, FIFO or socket, non-blocking and registered with the runtime's epoll.
struct Pollable {
    fd: AsyncFd<File>,
    /// The file status flags before we added `O_NONBLOCK`, put back on drop.
    original_flags: libc::c_int,
}

impl Pollable {
    /// Watches `file` for `interest`: readable for stdin, writable for stdout.
    fn new(file: File, interest: Interest) -> io::Result<Pollable> {
        let raw = file.as_raw_fd();
        // SAFETY: `raw` is an open descriptor owned by `file` for the whole call.
        let original_flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
        if original_flags < 0 {
            return Err(io::Error::last_os_error());
        }
        set_flags(raw, original_flags | libc::O_NONBLOCK)?;
        // SAFETY: the `File` owns its descriptor: it stays open, and the same, until the
        // `AsyncFd` that owns the `File` is dropped.
        match unsafe { AsyncFd::register_with_interest(file, interest) } {
            Ok(fd) => Ok(Pollable { fd, original_flags }),
            Err(error) => {
                let _ = set_flags(raw, original_flags);
                Err(error.into())
            }
        }
    }
}

fn set_flags(raw: libc::c_int, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: F_SETFL on a descriptor the caller keeps open changes only its status flags.
    if unsafe { libc::fcntl(raw, libc::F_SETFL, flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for Pollable {
    fn drop(&mut self) {
        let _ = set_flags(self.fd.as_raw_fd(), self.original_flags);
    }
}

impl AsyncRead for Pollable {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            // Ready as far as epoll knows; `try_io` clears that if the read would block,
            // and the loop then waits for the next readiness.
            let mut ready = ready!(self.fd.poll_read_ready(cx))?;
            let unfilled = buffer.initialize_unfilled();
            if let Ok(result) = ready.try_io(|fd| fd.get_ref().read(unfilled)) {
                let read = result?;
                buffer.advance(read);
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl AsyncWrite for Pollable {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut ready = ready!(self.fd.poll_write_ready(cx))?;
            if let Ok(result) = ready.try_io(|fd| fd.get_ref().write(bytes)) {
                return Poll::Ready(result);
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn pipe() -> (File, File) {
        let mut ends = [0; 2];
        // SAFETY: `pipe` fills both descriptors, which the `File`s below then own.
        assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
        let [reader, writer] = ends.map(|end| {
            // SAFETY: a fresh descriptor nobody else owns.
            File::from(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(end) })
        });
        (reader, writer)
    }

    #[tokio::test]
    async fn a_pipe_is_read_and_written_through_epoll_and_its_flags_come_back() {
        let (reader, writer) = pipe();
        let reader_fd = reader.as_raw_fd();
        let (Some(Stream::Pollable(mut input)), Some(Stream::Pollable(mut output))) = (
            open(reader.as_fd(), Interest::READABLE),
            open(writer.as_fd(), Interest::WRITABLE),
        ) else {
            panic!("a pipe is pollable");
        };
        // 1 MiB through a 64 KiB pipe: the writer must wait for the reader, in epoll.
        let message: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        let sent = message.clone();
        let writing = async move {
            output.write_all(&sent).await.unwrap();
            drop(output);
        };
        let reading = async {
            let mut received = Vec::new();
            let mut piece = [0u8; 4096];
            while received.len() < message.len() {
                let read = input.read(&mut piece).await.unwrap();
                received.extend_from_slice(&piece[..read]);
            }
            received
        };
        let ((), received) = tokio::join!(writing, reading);
        assert_eq!(received, message);
        drop(input);
        // SAFETY: F_GETFL on an open descriptor.
        let flags = unsafe { libc::fcntl(reader_fd, libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0, "the original flags are back");
    }

    #[test]
    fn a_pipe_on_stdout_is_grown_and_a_file_is_left_alone() {
        let (reader, writer) = pipe();
        // SAFETY: F_GETPIPE_SZ on an open pipe.
        let size = || unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_GETPIPE_SZ) };
        assert_eq!(size(), 65536, "a new pipe holds 64 KiB");
        grow_pipe(writer.as_fd(), STDOUT_PIPE_CAPACITY);
        assert_eq!(size() as usize, STDOUT_PIPE_CAPACITY);
        // Never shrunk: a pipe already larger keeps its size.
        grow_pipe(writer.as_fd(), 4096);
        assert_eq!(size() as usize, STDOUT_PIPE_CAPACITY);
        drop(reader);
        let file = tempfile_with(b"not a pipe");
        grow_pipe(file.as_fd(), STDOUT_PIPE_CAPACITY);
        assert!(file.metadata().is_ok());
    }

    #[tokio::test]
    async fn a_regular_file_is_read_directly_to_its_end() {
        let original = tempfile_with(b"from a file\n");
        let Some(Stream::Immediate(duplicate)) = open(original.as_fd(), Interest::READABLE) else {
            panic!("a regular file is read directly");
        };
        let mut text = String::new();
        Immediate(duplicate)
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "from a file\n");
        // Closing the duplicate left the original open.
        assert!(original.metadata().is_ok());
    }

    fn tempfile_with(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        std::io::Seek::rewind(&mut file).unwrap();
        file
    }
}
