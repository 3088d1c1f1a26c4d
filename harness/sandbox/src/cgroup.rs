//! Caps on the processes and the memory of one program: cgroups of its own.
//!
//! The harness makes one cgroup per program beside its own (`socket-lab-<pid>-<n>`), sets
//! its `pids.max` and its memory limit, and `sandbox-init` joins it before forking
//! anything: a fork bomb then stops at the cap, root or not (`RLIMIT_NPROC` does not hold
//! root), and everything the program forks shares one memory budget (`RLIMIT_AS` is per
//! process: ten children of 900 MiB each pass it). Over the budget the kernel kills a
//! process of the cgroup, and counts it (`oom_kill`), so the report can say why. After the
//! program, whatever is left in the cgroup is killed and the cgroup removed.
//!
//! Or kept for the next program, where nothing of it can tell one program from the next
//! ([`Spares`]): in v1, a program's `pids` and `cpu` cgroups, emptied, hold only their caps
//! (written again for each program) and the count of forks the cap refused, which a leaf
//! reads from where it found it. Making and removing cgroups was the largest kernel work
//! the sandbox adds to a program's start beside bubblewrap's; keeping these two took the
//! kernel's cgroup work of `harness bench --overhead` from 769 samples to 429, the rest
//! mostly the memory cgroup's. That one is always fresh: its peak and its charges (the page
//! cache a program's reads brought in) would carry over. In v2 one folder holds every
//! controller: nothing is kept.
//!
//! Both cgroup versions: v1's `pids` and `memory` hierarchies (two folders per program),
//! or v2's unified one where the `pids` and `memory` controllers can be enabled for
//! children of the harness's own cgroup. Where neither can be written (an ordinary user, a
//! read-only `/sys/fs/cgroup`) there is no cgroup layer; the memory cap alone can be
//! missing too (a v1 system without the memory controller), and the header says so.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Tasks (processes and threads) one program may have at once: a threaded server with a
/// few hundred clients fits; a fork bomb does not.
pub(crate) const MAX_TASKS: u32 = 1024;

/// The CPUs one program and everything it forks may use at once: a spinning program then
/// leaves the machine's other cores to the programs graded beside it.
pub(crate) const CPUS: u32 = 1;

/// The scheduler's period for the CPU cap, in microseconds (the kernel's default).
const CPU_PERIOD_MICROS: u32 = 100_000;

/// Where this harness makes its cgroups.
#[derive(Debug, Clone)]
pub(crate) struct Hierarchy {
    /// The harness's own cgroup folder, in which the programs' cgroups are made.
    parent: PathBuf,
    /// The same for the memory controller (another folder in v1, the same in v2), or why
    /// there is none.
    memory: Result<PathBuf, String>,
    /// The same for the cpu controller, or why there is none.
    cpu: Result<PathBuf, String>,
}

/// The folder of this process's cgroup for `controller` (`pids`, `memory`), where
/// children can be made that it controls.
fn controller_folder(memberships: &str, mounts: &str, controller: &str) -> Result<PathBuf, String> {
    let v1 = memberships.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|name| name == controller)
            .then_some(path)
    });
    let (mount, path) = match v1 {
        Some(path) => (mount_point(mounts, "cgroup", Some(controller)), path),
        None => {
            let path = memberships
                .lines()
                .find_map(|line| line.strip_prefix("0::"))
                .ok_or(format!("no {controller} cgroup controller"))?;
            (mount_point(mounts, "cgroup2", None), path)
        }
    };
    let mount = mount.ok_or(format!("no {controller} cgroup hierarchy is mounted"))?;
    let folder = mount.join(path.trim_start_matches('/'));
    if v1.is_none() {
        // v2: children get a `pids.max` (a `memory.max`) only where the parent enables
        // the controller.
        let control = folder.join("cgroup.subtree_control");
        let enabled = fs::read_to_string(&control).unwrap_or_default();
        if !enabled.split_whitespace().any(|name| name == controller) {
            fs::write(&control, format!("+{controller}")).map_err(|error| {
                format!(
                    "cannot enable the {controller} controller in {}: {error}",
                    folder.display()
                )
            })?;
        }
    }
    Ok(folder)
}

impl Hierarchy {
    /// The `pids` hierarchy this process can make cgroups in (and the `memory` one, where
    /// there is one), or why not.
    pub(crate) fn find() -> Result<Hierarchy, String> {
        let memberships = fs::read_to_string("/proc/self/cgroup")
            .map_err(|error| format!("cannot read /proc/self/cgroup: {error}"))?;
        let mounts = fs::read_to_string("/proc/self/mountinfo")
            .map_err(|error| format!("cannot read /proc/self/mountinfo: {error}"))?;
        let parent = controller_folder(&memberships, &mounts, "pids")?;
        let memory = controller_folder(&memberships, &mounts, "memory");
        let cpu = controller_folder(&memberships, &mounts, "cpu");
        let hierarchy = Hierarchy {
            parent,
            memory,
            cpu,
        };
        hierarchy.sweep_stale();
        // Proves it: a cgroup can be made, capped and removed.
        hierarchy.leaf()?.remove();
        Ok(hierarchy)
    }

    /// Whether programs get a memory cap, or why not.
    pub(crate) fn memory(&self) -> Result<(), &str> {
        self.memory.as_ref().map(drop).map_err(String::as_str)
    }

    /// Whether programs get a CPU cap, or why not.
    pub(crate) fn cpu(&self) -> Result<(), &str> {
        self.cpu.as_ref().map(drop).map_err(String::as_str)
    }

    /// Removes the empty cgroups that harness processes no longer running left behind
    /// (one killed before it could clean up): a later process with the same pid would
    /// find their names taken. Leaves named after this process's own pid are such
    /// leftovers too: it makes its first leaf after the sweep. A cgroup with a process in
    /// it cannot be removed, so a running harness's leaves are safe even if its pid were
    /// misread.
    fn sweep_stale(&self) {
        let folders = [
            Some(&self.parent),
            self.memory.as_ref().ok(),
            self.cpu.as_ref().ok(),
        ];
        let entries = folders
            .into_iter()
            .flatten()
            .filter_map(|folder| fs::read_dir(folder).ok())
            .flatten();
        // This process's own spares are not leftovers (were it to look again).
        let spares = SPARES.folders();
        for entry in entries.flatten() {
            if spares.contains(&entry.path()) {
                continue;
            }
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|name| name.strip_prefix("socket-lab-"))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == std::process::id() || !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir(entry.path());
            }
        }
    }

    /// A cgroup for one program, capped at [`MAX_TASKS`], at [`CPUS`] where the CPU can be
    /// capped and, where memory can be capped, at `memory_limit` bytes. Where it cannot be
    /// made whole, what was made of it goes again.
    pub(crate) fn leaf_with_caps(&self, memory_limit: u64) -> Result<Leaf, String> {
        let mut leaf = self.leaf()?;
        match self.add_caps(&mut leaf, memory_limit) {
            Ok(()) => Ok(leaf),
            Err(why) => {
                leaf.remove();
                Err(why)
            }
        }
    }

    /// Gives `leaf` its CPU cap and a memory cgroup capped at `memory_limit`, where the
    /// machine has them.
    fn add_caps(&self, leaf: &mut Leaf, memory_limit: u64) -> Result<(), String> {
        let name = leaf
            .dir
            .file_name()
            .expect("a cgroup has a name")
            .to_owned();
        if let Ok(cpu_parent) = &self.cpu {
            let dir = cpu_parent.join(&name);
            if dir != leaf.dir && leaf.cpu_dir.is_none() {
                // v1: a folder of its own in the cpu hierarchy, under the same name (a
                // spare has it already).
                fs::create_dir(&dir).map_err(|error| {
                    format!("cannot make the cgroup {}: {error}", dir.display())
                })?;
            }
            leaf.cpu_dir = Some(dir.clone());
            // Written on a spare too: the cap is then the one it is meant to be, and a
            // group throttled by the program before starts with its quota whole.
            let quota = CPU_PERIOD_MICROS * CPUS;
            let written = if dir.join("cpu.max").exists() {
                fs::write(dir.join("cpu.max"), format!("{quota} {CPU_PERIOD_MICROS}"))
            } else {
                fs::write(dir.join("cpu.cfs_period_us"), CPU_PERIOD_MICROS.to_string())
                    .and_then(|()| fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string()))
            };
            written.map_err(|error| format!("cannot cap the CPU of {}: {error}", dir.display()))?;
        }
        let Ok(memory_parent) = &self.memory else {
            return Ok(());
        };
        let dir = memory_parent.join(name);
        if dir != leaf.dir && Some(&dir) != leaf.cpu_dir.as_ref() {
            // v1: a folder of its own in the memory hierarchy, under the same name.
            fs::create_dir(&dir)
                .map_err(|error| format!("cannot make the cgroup {}: {error}", dir.display()))?;
        }
        leaf.memory_dir = Some(dir.clone());
        let cap = |file: &str| {
            fs::write(dir.join(file), memory_limit.to_string())
                .map_err(|error| format!("cannot cap the memory of {}: {error}", dir.display()))
        };
        if dir.join("memory.max").exists() {
            cap("memory.max")?;
            // No swap to spill into past the cap (where the system has swap at all).
            let _ = fs::write(dir.join("memory.swap.max"), "0");
        } else {
            cap("memory.limit_in_bytes")?;
            let _ = cap("memory.memsw.limit_in_bytes");
        }
        Ok(())
    }

    /// Whether a program's `pids` and `cpu` cgroups can be kept for the next program: v1,
    /// where the memory cgroup, never kept, is a folder of its own.
    fn keeps_spares(&self) -> bool {
        // v1's `tasks` file: v2 has none.
        self.parent.join("tasks").exists()
            && [&self.memory, &self.cpu]
                .into_iter()
                .all(|other| other.as_ref().map_or(true, |other| *other != self.parent))
    }

    /// A cgroup for one program, capped at [`MAX_TASKS`]: a spare one where there is one
    /// (already capped, its `cpu` folder with it), else a fresh one.
    pub(crate) fn leaf(&self) -> Result<Leaf, String> {
        if let Some(spare) = SPARES.take(&self.parent) {
            // Its cap written again: the one it is meant to be, whatever became of it.
            return match fs::write(spare.dir.join("pids.max"), MAX_TASKS.to_string()) {
                Ok(()) => Ok(spare),
                Err(error) => {
                    let why = format!("cannot cap the cgroup {}: {error}", spare.dir.display());
                    spare.remove();
                    Err(why)
                }
            };
        }
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let mut attempts = 0;
        let dir = loop {
            let name = format!(
                "socket-lab-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let dir = self.parent.join(name);
            match fs::create_dir(&dir) {
                Ok(()) => break dir,
                // Left by an earlier process with this pid and still busy: the next name.
                Err(error)
                    if error.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 =>
                {
                    attempts += 1;
                }
                Err(error) => {
                    return Err(format!("cannot make the cgroup {}: {error}", dir.display()));
                }
            }
        };
        let leaf = Leaf {
            dir,
            memory_dir: None,
            cpu_dir: None,
            refusals_before: 0,
            keepable: self.keeps_spares(),
        };
        fs::write(leaf.dir.join("pids.max"), MAX_TASKS.to_string())
            .map_err(|error| format!("cannot cap the cgroup {}: {error}", leaf.dir.display()))?;
        Ok(leaf)
    }
}

/// The mount point of a cgroup file system (`fstype`), with `option` among its super
/// options for v1 (`pids`).
fn mount_point(mountinfo: &str, fstype: &str, option: Option<&str>) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (before, after) = line.split_once(" - ")?;
        let mut after = after.split_whitespace();
        if after.next()? != fstype {
            return None;
        }
        let super_options = after.nth(1).unwrap_or("");
        if let Some(option) = option
            && !super_options.split(',').any(|name| name == option)
        {
            return None;
        }
        before.split_whitespace().nth(4).map(PathBuf::from)
    })
}

/// One program's cgroup.
#[derive(Debug)]
pub(crate) struct Leaf {
    dir: PathBuf,
    /// Its folder in the memory hierarchy (v1), or `dir` again (v2); `None`: no memory cap.
    memory_dir: Option<PathBuf>,
    /// Its folder in the cpu hierarchy (v1), or `dir` again (v2); `None`: no CPU cap.
    cpu_dir: Option<PathBuf>,
    /// The forks its cap refused before this program (a spare's, for earlier programs).
    refusals_before: u64,
    /// Its `pids` and `cpu` cgroups may be kept for the next program ([`Spares`]).
    keepable: bool,
}

impl Leaf {
    /// The `cgroup.procs` file that names the `pids` cgroup to `sandbox-init`
    /// (`--cgroup-procs`), which joins it through it, or in v1 through the `tasks` file
    /// beside it (no wait for the kernel's global lock: `init/src/main.rs`, `join_file`).
    pub(crate) fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Every cgroup `sandbox-init` joins, by its `cgroup.procs` file: one per hierarchy.
    pub(crate) fn procs_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.procs_file()];
        for other in [&self.memory_dir, &self.cpu_dir].into_iter().flatten() {
            let file = other.join("cgroup.procs");
            if !files.contains(&file) {
                files.push(file);
            }
        }
        files
    }

    /// How many of its processes the kernel killed for going over the memory cap
    /// (`oom_kill` in v2's `memory.events` or v1's `memory.oom_control`).
    pub(crate) fn memory_kills(&self) -> u64 {
        let Some(dir) = &self.memory_dir else {
            return 0;
        };
        ["memory.events", "memory.oom_control"]
            .iter()
            .filter_map(|file| fs::read_to_string(dir.join(file)).ok())
            .flat_map(|text| {
                text.lines()
                    .filter_map(|line| line.strip_prefix("oom_kill "))
                    .filter_map(|count| count.trim().parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .max()
            .unwrap_or(0)
    }

    /// The most memory its processes held at once, in bytes (`memory.peak` in v2,
    /// `memory.max_usage_in_bytes` in v1), where the kernel keeps it.
    pub(crate) fn memory_peak(&self) -> Option<u64> {
        let dir = self.memory_dir.as_ref()?;
        ["memory.peak", "memory.max_usage_in_bytes"]
            .iter()
            .filter_map(|file| fs::read_to_string(dir.join(file)).ok())
            .find_map(|text| text.trim().parse::<u64>().ok())
    }

    /// Whether the cap stopped a fork of this program (`pids.events`: `max N`, N more
    /// than before it).
    pub(crate) fn cap_was_hit(&self) -> bool {
        refusals(&self.dir) > self.refusals_before
    }

    /// Kills whatever is left in it and removes it (bounded: about a second at most), or,
    /// where it can be ([`Spares`]), keeps its emptied `pids` and `cpu` cgroups for the
    /// next program and removes its memory cgroup alone.
    pub(crate) fn remove(mut self) {
        // The next program makes its memory cgroup under the same name: a spare only
        // once this one is gone.
        let mut memory_gone = true;
        if let Some(memory) = self.memory_dir.take()
            && memory != self.dir
        {
            remove_dir(&memory);
            memory_gone = !memory.exists();
        }
        let cpu_emptied = || {
            self.cpu_dir
                .as_ref()
                .is_none_or(|cpu| *cpu == self.dir || emptied(cpu))
        };
        if self.keepable && memory_gone && emptied(&self.dir) && cpu_emptied() {
            SPARES.keep(self);
            return;
        }
        remove_dir(&self.dir);
        if let Some(cpu) = self.cpu_dir.take()
            && cpu != self.dir
        {
            remove_dir(&cpu);
        }
    }
}

/// The forks the `pids` cgroup `dir` refused so far (`pids.events`: `max N`).
fn refusals(dir: &Path) -> u64 {
    fs::read_to_string(dir.join("pids.events"))
        .ok()
        .and_then(|events| {
            events
                .lines()
                .find_map(|line| line.strip_prefix("max "))
                .and_then(|count| count.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Kills whatever is left in the cgroup `dir` until none is (bounded, as [`remove_dir`]),
/// and says whether it is empty and has no cgroup below it: only then can it serve
/// another program.
fn emptied(dir: &Path) -> bool {
    for _ in 0..100 {
        let procs = match fs::read_to_string(dir.join("cgroup.procs")) {
            Ok(procs) => procs,
            Err(_) => return false,
        };
        if procs.trim().is_empty() {
            return fs::read_dir(dir).is_ok_and(|entries| {
                entries
                    .flatten()
                    .all(|entry| entry.file_type().is_ok_and(|kind| !kind.is_dir()))
            });
        }
        for pid in procs
            .lines()
            .filter_map(|line| line.trim().parse::<i32>().ok())
        {
            // SAFETY: kill only sends a signal.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The emptied `pids` and `cpu` cgroups of programs that have ended (v1), kept for the
/// next programs of this process: taking one spares the kernel a cgroup made and removed
/// in each of two hierarchies. At most [`Spares::MOST`] (a run's programs at once, about);
/// the rest are removed. Removed at this process's exit, and after a SIGKILL by the next
/// run's sweep (`sweep_stale`: their names carry this pid).
struct Spares(Mutex<Vec<Leaf>>);

static SPARES: Spares = Spares(Mutex::new(Vec::new()));

/// Set once the spares are being removed for good (the process's exit).
static REMOVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Spares {
    const MOST: usize = 32;

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Leaf>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A spare of the hierarchy whose parent folder is `parent`, counting the forks its
    /// cap refused so far as earlier programs'. Only one that counts no task: a zombie is
    /// no longer listed in `cgroup.procs` but counts against the cap until its parent
    /// reaps it (the harness reaps a program's `sandbox-init` a moment after its release;
    /// an orphan under a PID 1 that never reaps, never). Such a spare stays kept, to be
    /// taken once nothing counts there (or removed at the exit).
    fn take(&self, parent: &Path) -> Option<Leaf> {
        let counts_nothing = |leaf: &Leaf| {
            fs::read_to_string(leaf.dir.join("pids.current")).is_ok_and(|count| count.trim() == "0")
        };
        let mut leaf = {
            let mut spares = self.lock();
            let index = spares
                .iter()
                .position(|spare| spare.dir.parent() == Some(parent) && counts_nothing(spare))?;
            spares.swap_remove(index)
        };
        leaf.refusals_before = refusals(&leaf.dir);
        Some(leaf)
    }

    /// Keeps `leaf` (emptied, without its memory cgroup), or removes it when there are
    /// enough.
    fn keep(&self, leaf: Leaf) {
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        AT_EXIT.call_once(|| {
            extern "C" fn remove_spares() {
                SPARES.remove_all();
            }
            // SAFETY: the function neither unwinds nor needs anything atexit's callers
            // could have torn down (a mutex and the file system).
            unsafe {
                libc::atexit(remove_spares);
            }
        });
        let mut spares = self.lock();
        if spares.len() < Self::MOST && !REMOVING.load(Ordering::Acquire) {
            spares.push(leaf);
            return;
        }
        drop(spares);
        remove_dir(&leaf.dir);
        if let Some(cpu) = &leaf.cpu_dir {
            remove_dir(cpu);
        }
    }

    /// The folders of every spare.
    fn folders(&self) -> Vec<PathBuf> {
        self.lock()
            .iter()
            .flat_map(|spare| std::iter::once(spare.dir.clone()).chain(spare.cpu_dir.clone()))
            .collect()
    }

    /// Removes every spare, and keeps none after (the process is ending).
    fn remove_all(&self) {
        REMOVING.store(true, Ordering::Release);
        self.remove_kept();
    }

    /// Removes every spare kept so far.
    fn remove_kept(&self) {
        let spares = std::mem::take(&mut *self.lock());
        for spare in spares {
            remove_dir(&spare.dir);
            if let Some(cpu) = &spare.cpu_dir {
                remove_dir(cpu);
            }
        }
    }
}

fn remove_dir(dir: &Path) {
    for _ in 0..100 {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs
            .lines()
            .filter_map(|line| line.trim().parse::<i32>().ok())
        {
            // SAFETY: kill only sends a signal.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spares are the process's: one test at a time takes and keeps them.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn alone() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A program's cgroup caps its CPU at [`CPUS`], its tasks at [`MAX_TASKS`] and its
    /// memory at what it is given, in whichever cgroup version the machine has.
    #[test]
    fn a_leaf_caps_cpu_tasks_and_memory() {
        let _alone = alone();
        let hierarchy = match Hierarchy::find() {
            Ok(hierarchy) => hierarchy,
            Err(why) => panic!(
                "this test needs a cgroup hierarchy the suite may write ({why}): run it as root"
            ),
        };
        if let Err(why) = hierarchy.cpu() {
            panic!("this test needs the cpu controller ({why})");
        }
        let leaf = hierarchy.leaf_with_caps(256 << 20).unwrap();
        let read = |dir: &Path, file: &str| {
            fs::read_to_string(dir.join(file))
                .map(|text| text.trim().to_string())
                .ok()
        };
        let cpu = leaf.cpu_dir.clone().expect("a cpu cgroup");
        let quota = read(&cpu, "cpu.max").or_else(|| {
            Some(format!(
                "{} {}",
                read(&cpu, "cpu.cfs_quota_us")?,
                read(&cpu, "cpu.cfs_period_us")?
            ))
        });
        assert_eq!(
            quota.as_deref(),
            Some(format!("{} {CPU_PERIOD_MICROS}", CPU_PERIOD_MICROS * CPUS).as_str())
        );
        assert_eq!(read(&leaf.dir, "pids.max"), Some(MAX_TASKS.to_string()));
        let memory = leaf.memory_dir.clone().expect("a memory cgroup");
        let cap = read(&memory, "memory.max").or_else(|| read(&memory, "memory.limit_in_bytes"));
        assert_eq!(cap, Some((256u64 << 20).to_string()));
        let files = leaf.procs_files();
        leaf.remove();
        // Its memory cgroup is gone; in v1 its `pids` and `cpu` cgroups are spares, which
        // go at the exit (here, at once).
        assert!(
            !memory.join("cgroup.procs").exists()
                || hierarchy.memory == Ok(hierarchy.parent.clone())
        );
        SPARES.remove_kept();
        assert!(files.iter().all(|file| !file.exists()), "{files:?}");
    }

    /// In v1, a program's emptied `pids` and `cpu` cgroups serve the next program, with a
    /// fresh memory cgroup, their caps written again, and the forks their cap refused
    /// before not counted as the next program's.
    #[test]
    fn a_spare_serves_the_next_program_with_a_fresh_memory_cgroup() {
        let _alone = alone();
        let hierarchy =
            Hierarchy::find().expect("a cgroup hierarchy the suite may write: run it as root");
        if !hierarchy.keeps_spares() {
            // v2: one folder holds every controller, and nothing is kept.
            let leaf = hierarchy.leaf_with_caps(64 << 20).unwrap();
            let dir = leaf.dir.clone();
            leaf.remove();
            assert!(!dir.exists());
            return;
        }
        let read = |dir: &Path, file: &str| {
            fs::read_to_string(dir.join(file))
                .map(|text| text.trim().to_string())
                .unwrap_or_default()
        };
        let first = hierarchy.leaf_with_caps(64 << 20).unwrap();
        let (dir, memory) = (first.dir.clone(), first.memory_dir.clone());
        let cpu = first.cpu_dir.clone().expect("a cpu cgroup");
        // A program that uncapped its CPU and hit its task cap: a shell joins with room
        // for itself alone, and its fork is refused.
        fs::write(cpu.join("cpu.cfs_quota_us"), "-1").unwrap();
        fs::write(dir.join("pids.max"), "1").unwrap();
        let shell = format!("echo $$ > {}; /bin/true", dir.join("tasks").display());
        let _ = std::process::Command::new("/bin/sh")
            .args(["-c", &shell])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(refusals(&dir), 1, "the shell's fork was refused");
        first.remove();
        let second = hierarchy.leaf_with_caps(32 << 20).unwrap();
        assert_eq!(second.dir, dir, "the spare is taken");
        assert_eq!(
            second.memory_dir, memory,
            "a memory cgroup under the same name"
        );
        assert_eq!(read(&dir, "pids.max"), MAX_TASKS.to_string());
        assert_eq!(
            read(&cpu, "cpu.cfs_quota_us"),
            (CPU_PERIOD_MICROS * CPUS).to_string()
        );
        let memory = second.memory_dir.clone().expect("a memory cgroup");
        assert_eq!(
            read(&memory, "memory.limit_in_bytes"),
            (32u64 << 20).to_string(),
            "made fresh, with its own cap"
        );
        assert_eq!(second.refusals_before, 1);
        assert!(
            !second.cap_was_hit(),
            "the refusal was the program's before"
        );
        second.remove();
        SPARES.remove_kept();
        assert!(!dir.exists() && !cpu.exists());
    }

    /// A spare that still counts a task (a zombie its parent has not reaped) is not handed
    /// out: the next program gets a fresh cgroup with its whole cap, and the spare serves
    /// once the zombie is reaped.
    #[test]
    fn a_spare_that_still_counts_a_zombie_is_not_handed_out() {
        let _alone = alone();
        let hierarchy =
            Hierarchy::find().expect("a cgroup hierarchy the suite may write: run it as root");
        if !hierarchy.keeps_spares() {
            return;
        }
        let first = hierarchy.leaf_with_caps(64 << 20).unwrap();
        let dir = first.dir.clone();
        // A child that joins and exits, left unreaped: a zombie the cgroup still counts.
        let shell = format!("echo $$ > {}", dir.join("tasks").display());
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", &shell])
            .spawn()
            .unwrap();
        let stat = format!("/proc/{}/stat", child.id());
        for _ in 0..5_000 {
            if fs::read_to_string(&stat).is_ok_and(|stat| stat.contains(") Z ")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            fs::read_to_string(dir.join("pids.current")).unwrap().trim(),
            "1"
        );
        first.remove();
        let second = hierarchy.leaf_with_caps(64 << 20).unwrap();
        assert_ne!(
            second.dir, dir,
            "a fresh cgroup, not the one counting a zombie"
        );
        // Reaped, it counts nothing: the next program takes it.
        child.wait().unwrap();
        let third = hierarchy.leaf_with_caps(64 << 20).unwrap();
        assert_eq!(third.dir, dir);
        second.remove();
        third.remove();
        SPARES.remove_kept();
        assert!(!dir.exists());
    }
}
