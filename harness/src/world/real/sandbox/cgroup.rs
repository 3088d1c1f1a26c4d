//! A cap on the processes of one program: a `pids` cgroup of its own.
//!
//! The harness makes one cgroup per program beside its own (`socket-lab-<pid>-<n>`), sets
//! its `pids.max`, and `sandbox-init` joins it before forking anything: a fork bomb then
//! stops at the cap, root or not (`RLIMIT_NPROC` does not hold root). After the program,
//! whatever is left in the cgroup is killed and the cgroup removed.
//!
//! Both cgroup versions: v1's `pids` hierarchy, or v2's unified one where the `pids`
//! controller can be enabled for children of the harness's own cgroup. Where neither can
//! be written (an ordinary user, a read-only `/sys/fs/cgroup`) there is no cgroup layer.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Tasks (processes and threads) one program may have at once: a threaded server with a
/// few hundred clients fits; a fork bomb does not.
pub const MAX_TASKS: u32 = 1024;

/// Where this harness makes its cgroups.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// The harness's own cgroup folder, in which the programs' cgroups are made.
    parent: PathBuf,
}

impl Hierarchy {
    /// The `pids` hierarchy this process can make cgroups in, or why not.
    pub fn find() -> Result<Hierarchy, String> {
        let memberships = fs::read_to_string("/proc/self/cgroup")
            .map_err(|error| format!("cannot read /proc/self/cgroup: {error}"))?;
        let mounts = fs::read_to_string("/proc/self/mountinfo")
            .map_err(|error| format!("cannot read /proc/self/mountinfo: {error}"))?;
        let v1 = memberships.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            controllers
                .split(',')
                .any(|name| name == "pids")
                .then_some(path)
        });
        let (mount, path) = match v1 {
            Some(path) => (mount_point(&mounts, "cgroup", Some("pids")), path),
            None => {
                let path = memberships
                    .lines()
                    .find_map(|line| line.strip_prefix("0::"))
                    .ok_or("no pids cgroup controller")?;
                (mount_point(&mounts, "cgroup2", None), path)
            }
        };
        let mount = mount.ok_or("no pids cgroup hierarchy is mounted")?;
        let parent = mount.join(path.trim_start_matches('/'));
        if v1.is_none() {
            // v2: children get a `pids.max` only where the parent enables the controller.
            let control = parent.join("cgroup.subtree_control");
            let enabled = fs::read_to_string(&control).unwrap_or_default();
            if !enabled.split_whitespace().any(|name| name == "pids") {
                fs::write(&control, "+pids").map_err(|error| {
                    format!(
                        "cannot enable the pids controller in {}: {error}",
                        parent.display()
                    )
                })?;
            }
        }
        let hierarchy = Hierarchy { parent };
        hierarchy.sweep_stale();
        // Proves it: a cgroup can be made, capped and removed.
        hierarchy.leaf()?.remove();
        Ok(hierarchy)
    }

    /// Removes the empty cgroups that harness processes no longer running left behind
    /// (one killed before it could clean up): a later process with the same pid would
    /// find their names taken. Leaves named after this process's own pid are such
    /// leftovers too: it makes its first leaf after the sweep. A cgroup with a process in
    /// it cannot be removed, so a running harness's leaves are safe even if its pid were
    /// misread.
    fn sweep_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.parent) else {
            return;
        };
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

    /// A fresh cgroup for one program, capped at [`MAX_TASKS`].
    pub fn leaf(&self) -> Result<Leaf, String> {
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
        let leaf = Leaf { dir };
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
pub struct Leaf {
    dir: PathBuf,
}

impl Leaf {
    /// The file `sandbox-init` writes itself into.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Whether the cap stopped a fork (`pids.events`: `max N` with N > 0).
    pub fn cap_was_hit(&self) -> bool {
        fs::read_to_string(self.dir.join("pids.events")).is_ok_and(|events| {
            events
                .lines()
                .filter_map(|line| line.strip_prefix("max "))
                .any(|count| count.trim() != "0")
        })
    }

    /// Kills whatever is left in it and removes it (bounded: about a second at most).
    pub fn remove(self) {
        remove_dir(&self.dir);
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
