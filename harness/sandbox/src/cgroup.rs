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
//! Both cgroup versions: v1's `pids` and `memory` hierarchies (two folders per program),
//! or v2's unified one where the `pids` and `memory` controllers can be enabled for
//! children of the harness's own cgroup. Where neither can be written (an ordinary user, a
//! read-only `/sys/fs/cgroup`) there is no cgroup layer; the memory cap alone can be
//! missing too (a v1 system without the memory controller), and the header says so.

use std::fs;
use std::path::{Path, PathBuf};
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
        for entry in entries.flatten() {
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

    /// A fresh cgroup for one program, capped at [`MAX_TASKS`], at [`CPUS`] where the CPU
    /// can be capped and, where memory can be capped, at `memory_limit` bytes.
    pub(crate) fn leaf_with_caps(&self, memory_limit: u64) -> Result<Leaf, String> {
        let mut leaf = self.leaf()?;
        let name = leaf
            .dir
            .file_name()
            .expect("a cgroup has a name")
            .to_owned();
        if let Ok(cpu_parent) = &self.cpu {
            let dir = cpu_parent.join(&name);
            if dir != leaf.dir {
                // v1: a folder of its own in the cpu hierarchy, under the same name.
                fs::create_dir(&dir).map_err(|error| {
                    format!("cannot make the cgroup {}: {error}", dir.display())
                })?;
            }
            leaf.cpu_dir = Some(dir.clone());
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
            return Ok(leaf);
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
        Ok(leaf)
    }

    /// A fresh cgroup for one program, capped at [`MAX_TASKS`].
    pub(crate) fn leaf(&self) -> Result<Leaf, String> {
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

    /// Whether the cap stopped a fork (`pids.events`: `max N` with N > 0).
    pub(crate) fn cap_was_hit(&self) -> bool {
        fs::read_to_string(self.dir.join("pids.events")).is_ok_and(|events| {
            events
                .lines()
                .filter_map(|line| line.strip_prefix("max "))
                .any(|count| count.trim() != "0")
        })
    }

    /// Kills whatever is left in it and removes it (bounded: about a second at most).
    pub(crate) fn remove(self) {
        remove_dir(&self.dir);
        for other in [self.memory_dir, self.cpu_dir].into_iter().flatten() {
            if other != self.dir {
                remove_dir(&other);
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

    /// A program's cgroup caps its CPU at [`CPUS`], its tasks at [`MAX_TASKS`] and its
    /// memory at what it is given, in whichever cgroup version the machine has.
    #[test]
    fn a_leaf_caps_cpu_tasks_and_memory() {
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
        assert!(files.iter().all(|file| !file.exists()), "{files:?}");
    }
}
