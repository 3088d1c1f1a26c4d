//! How a program ended: its exit status or signal, its peak memory, and why the harness
//! stopped it when it did (its output flooded, its memory cap, a step). The engine reads
//! them from `wait4` (the real world) or a simulated host; every report shows them.

use std::time::Duration;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitKind {
    /// It exited with this status.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl std::fmt::Display for ExitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitKind::Code(code) => write!(f, "exit status {code}"),
            ExitKind::Signal(signal) => {
                write!(f, "killed by signal {signal} ({})", signal_name(*signal))
            }
        }
    }
}

/// The name of a signal (`SIGSEGV`), or `signal` for one without a common name.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGINT => "SIGINT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGXCPU => "SIGXCPU: over its CPU time limit",
        _ => "signal",
    }
}

/// Why the harness ended a program before it ended by itself (the kill of whatever still
/// runs when a scenario is over is not one: every program gets it).
///
/// A report says so in the verdict: otherwise a program killed for flooding its output
/// reads as one that crashed with SIGKILL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum HarnessStop {
    /// It printed more than `cap` bytes on `stream` (`stdout` or `stderr`): a child's
    /// process group is killed, a simulated program's writes fail.
    OutputCap {
        /// The stream: `stdout` or `stderr`.
        stream: String,
        /// The most bytes it may print there.
        cap: u64,
    },
    /// The kernel killed `killed` of its processes (it, or children it forked) when they
    /// went over the memory cap of `limit` bytes that they share (`--memory-limit`).
    MemoryLimit {
        /// The memory cap, in bytes.
        limit: u64,
        /// How many of its processes the kernel killed.
        killed: u64,
    },
    /// Its own folders (`HOME`, `/tmp`, its working folder) held more than `limit` bytes,
    /// where no sized folder holds them: `sandbox-init`'s watcher ended it.
    DiskLimit {
        /// The disk cap, in bytes.
        limit: u64,
    },
    /// A step of the scenario stopped it (SIGTERM, then SIGKILL after a grace).
    Stopped,
}

impl std::fmt::Display for HarnessStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HarnessStop::OutputCap { stream, cap } => write!(
                f,
                "stopped by the harness: printed more than {} on {stream}",
                size_text(*cap)
            ),
            HarnessStop::MemoryLimit { limit, killed } => {
                write!(f, "stopped: over its {} memory limit", size_text(*limit))?;
                if *killed > 1 {
                    write!(f, " ({killed} of its processes killed)")?;
                }
                Ok(())
            }
            HarnessStop::DiskLimit { limit } => write!(
                f,
                "stopped: its folders and /tmp held more than its {} disk limit",
                size_text(*limit)
            ),
            HarnessStop::Stopped => write!(f, "stopped by the harness at a step of the scenario"),
        }
    }
}

/// The end of a process, from `wait4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExitInfo {
    /// Status or signal.
    pub kind: ExitKind,
    /// Peak resident set size in KiB (`ru_maxrss`).
    pub max_rss_kib: u64,
    /// When, since the process started.
    #[serde(with = "crate::encoding::micros")]
    pub after: Duration,
}

/// A size in bytes as a person reads it: `1 MiB`, `64 KiB`, `1000 bytes` (whole units
/// only). The same text as `sandbox::size_text`, which the sandbox's own messages use
/// (the harness's tests check the two agree).
pub fn size_text(bytes: u64) -> String {
    [(30, "GiB"), (20, "MiB"), (10, "KiB")]
        .into_iter()
        .find(|(shift, _)| bytes >= 1 << shift && bytes.is_multiple_of(1 << shift))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(shift, unit)| format!("{} {unit}", bytes >> shift),
        )
}
