//! One output stream of a program (stdout or stderr), kept up to a cap.
//!
//! A child process's output is copied to a file by a thread ([`Capture::pump`]), so the
//! harness's own memory stays bounded whatever a submission prints: an unnamed file in the
//! system's temporary folder ([`Capture::unnamed`], `O_TMPFILE`, or a file removed as soon
//! as it is made where the file system has none), which no other program can open by a
//! path, and which the kernel may write out and forget under memory pressure (a file in
//! memory, `memfd`, would pin up to the cap in RAM: a flood of eight scenarios at once
//! could take a small grading container's memory). A simulated program's
//! output is small and kept in memory ([`Capture::memory`]). Either way the engine reads
//! it the same way: its length so far, bytes at an offset, whether it ended, whether it
//! went over the cap.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use tokio::io::AsyncWrite;

/// Where the captured bytes live.
#[derive(Debug)]
enum Store {
    File(File),
    Memory(Mutex<Vec<u8>>),
}

/// A captured output stream.
#[derive(Debug)]
pub struct Capture {
    store: Store,
    len: AtomicU64,
    cap: u64,
    flooded: AtomicBool,
    closed: AtomicBool,
    /// The thread copying a program's output into it ([`Capture::pump`]), while it does.
    pumped_by: AtomicI32,
}

impl Capture {
    /// A capture into a new unnamed file of the system's temporary folder (`TMPDIR`).
    pub fn unnamed(cap: u64) -> io::Result<Capture> {
        Ok(Capture::with_store(Store::File(tempfile::tempfile()?), cap))
    }

    /// A capture in memory (for simulated programs).
    pub fn memory(cap: u64) -> Capture {
        Capture::with_store(Store::Memory(Mutex::new(Vec::new())), cap)
    }

    fn with_store(store: Store, cap: u64) -> Capture {
        Capture {
            store,
            len: AtomicU64::new(0),
            cap,
            flooded: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            pumped_by: AtomicI32::new(0),
        }
    }

    /// Bytes captured so far.
    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Acquire)
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the program printed more than the cap (and was stopped for it).
    pub fn flooded(&self) -> bool {
        self.flooded.load(Ordering::Acquire)
    }

    /// The cap, in bytes.
    pub fn cap(&self) -> u64 {
        self.cap
    }

    /// Whether the stream reached its end (the program and its children closed it).
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the end of the stream.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Reads captured bytes at `offset`; returns how many.
    pub fn read_at(&self, offset: u64, buffer: &mut [u8]) -> io::Result<usize> {
        let available = self.len().saturating_sub(offset).min(buffer.len() as u64) as usize;
        match &self.store {
            Store::File(file) => file.read_exact_at(&mut buffer[..available], offset)?,
            Store::Memory(bytes) => {
                let bytes = bytes.lock().expect("capture lock");
                let start = offset as usize;
                buffer[..available].copy_from_slice(&bytes[start..start + available]);
            }
        }
        Ok(available)
    }

    /// The first `limit` captured bytes.
    pub fn head(&self, limit: usize) -> Vec<u8> {
        let mut buffer = vec![0; self.len().min(limit as u64) as usize];
        let filled = self.read_at(0, &mut buffer).unwrap_or(0);
        buffer.truncate(filled);
        buffer
    }

    /// The last `limit` captured bytes: where a crash leaves its error (a Python
    /// traceback ends with the exception, after any number of frames).
    pub fn tail(&self, limit: usize) -> Vec<u8> {
        let start = self.len().saturating_sub(limit as u64);
        let mut buffer = vec![0; (self.len() - start) as usize];
        let filled = self.read_at(start, &mut buffer).unwrap_or(0);
        buffer.truncate(filled);
        buffer
    }

    /// Appends what the program printed, up to the cap. Returns `false` once over the cap
    /// (the rest is dropped and the capture is marked flooded).
    pub fn append(&self, bytes: &[u8]) -> io::Result<bool> {
        let room = self.cap.saturating_sub(self.len()) as usize;
        let kept = bytes.len().min(room);
        match &self.store {
            Store::File(file) => {
                let mut writer = file;
                writer.write_all(&bytes[..kept])?;
            }
            Store::Memory(stored) => stored
                .lock()
                .expect("capture lock")
                .extend_from_slice(&bytes[..kept]),
        }
        self.len.fetch_add(kept as u64, Ordering::Release);
        if kept < bytes.len() {
            self.flooded.store(true, Ordering::Release);
            return Ok(false);
        }
        Ok(true)
    }

    /// Copies `source` into the capture until its end or the cap; past the cap, calls
    /// `on_flood` (which stops the program) and stops reading.
    pub fn pump(&self, mut source: impl Read, on_flood: impl FnOnce()) {
        let thread = rustix::thread::gettid().as_raw_nonzero().get();
        self.pumped_by.store(thread, Ordering::Release);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let received = match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(received) => received,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            match self.append(&buffer[..received]) {
                Ok(true) => {}
                Ok(false) => {
                    on_flood();
                    break;
                }
                Err(_) => break,
            }
        }
        self.close();
    }

    /// The thread of this process copying a program's output into the capture (see
    /// [`Capture::pump`]), once it has started: while it waits in `read` on an empty pipe,
    /// nothing the program printed is on its way.
    pub fn pump_thread(&self) -> Option<i32> {
        Some(self.pumped_by.load(Ordering::Acquire)).filter(|thread| *thread > 0)
    }
}

/// A program's stdout or stderr, written into its capture. Past the cap, writes fail
/// (the program sees a broken stdout) and the capture is marked flooded.
pub struct CaptureWriter(pub Arc<Capture>);

impl AsyncWrite for CaptureWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.0.append(data) {
            Ok(true) => Poll::Ready(Ok(data.len())),
            Ok(false) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "output cap reached",
            ))),
            Err(error) => Poll::Ready(Err(error)),
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
    use super::*;

    #[test]
    fn the_tail_is_the_last_bytes_kept() {
        let capture = Capture::memory(1 << 10);
        capture
            .append(b"Traceback (most recent call last):\n")
            .unwrap();
        capture.append(b"ValueError: bad port\n").unwrap();
        assert_eq!(capture.tail(21), b"ValueError: bad port\n");
        assert_eq!(capture.tail(1 << 20), capture.head(1 << 20));
        assert!(Capture::memory(8).tail(4).is_empty());
    }

    #[test]
    fn past_the_cap_the_capture_is_flooded_and_keeps_the_cap() {
        let capture = Capture::memory(4);
        assert!(!capture.append(b"flood").unwrap());
        assert!(capture.flooded());
        assert_eq!(capture.tail(10), b"floo");
    }
}

/// stdout or stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// The program's standard output.
    Stdout,
    /// The program's standard error.
    Stderr,
}

impl OutputStream {
    /// `stdout` or `stderr`.
    pub fn name(self) -> &'static str {
        match self {
            OutputStream::Stdout => "stdout",
            OutputStream::Stderr => "stderr",
        }
    }
}
