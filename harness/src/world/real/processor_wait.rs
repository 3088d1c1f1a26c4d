//! How long threads waited for a processor: the second field of
//! `/proc/PID/task/TID/schedstat`, the nanoseconds a thread spent runnable on a run queue
//! without running.
//!
//! A step's deadline ("an `error:` line within a second") is about the program, not the
//! machine: on a busy machine (a platform grading many submissions at once, a CI runner
//! building beside the tests) a correct server that answers at once may be kept off the
//! processor for longer than the deadline. [`crate::waiting::Deadline`] adds that time back,
//! measured here; a program that is slow by itself (computing, sleeping, blocked on a slow
//! peer) accumulates none of it.
//!
//! Only the programs' waits count, never the harness's own: a harness thread kept off the
//! processor sees every answer late, the slow program's as much as the fast one's, and
//! forgiving that time would let a program that is too slow by design pass on a busy
//! machine (a proxy serving one client at a time, 2 s where 1.8 s is the limit).

use std::collections::HashMap;
use std::fs;
use std::time::Duration;

/// The processor waits, so far, of the threads of a scenario's programs.
#[derive(Debug, Clone, Default)]
pub struct ProcessorWaits {
    /// Thread id → nanoseconds waited, for every thread of the programs' processes.
    programs: HashMap<i32, u64>,
}

impl ProcessorWaits {
    /// Reads the waits of every thread of `processes`. Threads that cannot be read (ended
    /// since they were listed) are left out.
    pub fn read(processes: &[i32]) -> Self {
        let mut programs = HashMap::new();
        for &pid in processes {
            let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
                continue;
            };
            for task in tasks.flatten() {
                let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                    continue;
                };
                if let Some(waited) = run_delay(&format!("/proc/{pid}/task/{tid}/schedstat")) {
                    programs.insert(tid, waited);
                }
            }
        }
        Self { programs }
    }

    /// Waits of one program thread, `waited_ms` so far.
    #[cfg(test)]
    pub(crate) fn for_tests(waited_ms: u64) -> Self {
        Self {
            programs: HashMap::from([(1, waited_ms * 1_000_000)]),
        }
    }

    /// How long, at most, the programs were kept waiting for a processor since
    /// `earlier`: the longest wait any one program thread gained. One thread's, not the
    /// sum: threads waiting side by side delay an answer once. A thread born since
    /// `earlier` counts from its start.
    pub fn since(&self, earlier: &Self) -> Duration {
        Duration::from_nanos(most_gained(&self.programs, &earlier.programs))
    }
}

/// The largest growth of any thread's wait between `earlier` and `now`.
fn most_gained(now: &HashMap<i32, u64>, earlier: &HashMap<i32, u64>) -> u64 {
    now.iter()
        .map(|(tid, &waited)| waited.saturating_sub(earlier.get(tid).copied().unwrap_or(0)))
        .max()
        .unwrap_or(0)
}

/// The run-queue wait of a `schedstat` file: `on-cpu-ns wait-ns timeslices`.
fn run_delay(path: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn the_largest_gain_of_one_thread_counts_and_a_new_thread_counts_from_its_start() {
        let earlier = HashMap::from([(1, 100), (2, 1_000)]);
        let now = HashMap::from([(1, 400), (2, 1_100), (3, 250)]);
        assert_eq!(most_gained(&now, &earlier), 300);
        // A thread ended since (gone from `now`) and a counter read lower gain nothing.
        let later = HashMap::from([(2, 900)]);
        assert_eq!(most_gained(&later, &earlier), 0);
    }

    #[test]
    fn threads_sharing_one_processor_are_seen_waiting_for_it() {
        // Two threads pinned to one processor, each spinning for 300 ms of its own
        // running time: while one runs, the other waits on the run queue. They stay
        // alive (asleep) until their counters have been read.
        let spinners = 2;
        let start = Arc::new(Barrier::new(spinners + 1));
        let spun = Arc::new(Barrier::new(spinners + 1));
        let read = Arc::new(Barrier::new(spinners + 1));
        let (sender, receiver) = std::sync::mpsc::channel();
        let handles: Vec<_> = (0..spinners)
            .map(|_| {
                let (start, spun, read) =
                    (Arc::clone(&start), Arc::clone(&spun), Arc::clone(&read));
                let sender = sender.clone();
                std::thread::spawn(move || {
                    pin_to_first_allowed_cpu();
                    sender.send(nix_gettid()).unwrap();
                    start.wait();
                    let began = thread_cpu_time();
                    while thread_cpu_time().saturating_sub(began) < Duration::from_millis(300) {}
                    spun.wait();
                    read.wait();
                })
            })
            .collect();
        let tids: Vec<i32> = (0..spinners).map(|_| receiver.recv().unwrap()).collect();
        let me = std::process::id() as i32;
        let before = ProcessorWaits::read(&[me]);
        start.wait();
        spun.wait();
        let after = ProcessorWaits::read(&[me]);
        read.wait();
        for handle in handles {
            handle.join().unwrap();
        }
        for tid in &tids {
            assert!(after.programs.contains_key(tid), "thread {tid} not read");
        }
        // 600 ms of running on one processor: whichever thread ran second waited for
        // most of the first one's turn, however the scheduler interleaved them.
        let waited = after.since(&before);
        assert!(
            waited >= Duration::from_millis(100),
            "two threads sharing one processor for 600 ms: the longest wait was {waited:?}"
        );
    }

    /// The calling thread's id, as `/proc` names it.
    fn nix_gettid() -> i32 {
        rustix::thread::gettid().as_raw_nonzero().get()
    }

    /// Pins the calling thread to the first processor it may use.
    fn pin_to_first_allowed_cpu() {
        use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
        let allowed = sched_getaffinity(None).unwrap();
        let first = (0..CpuSet::MAX_CPU)
            .find(|&cpu| allowed.is_set(cpu))
            .unwrap();
        let mut set = CpuSet::new();
        set.set(first);
        sched_setaffinity(None, &set).unwrap();
    }

    /// The calling thread's processor time.
    fn thread_cpu_time() -> Duration {
        let time = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
    }
}
