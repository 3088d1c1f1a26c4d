//! The resource limits of every program (`setrlimit`): worked out here, in the harness, and
//! set where the program starts: by `sandbox-init` first thing (`--rlimit`, see
//! [`Limit::argument`]), or between fork and exec where a program starts without it.
//!
//! Why not always between fork and exec: any step there makes the standard library `fork`
//! the whole harness, copying its page tables (hundreds of megabytes of them while eight
//! scenarios run) and making every page it writes afterwards fault once; with none, it
//! starts the child with `posix_spawn`, which shares them until the `exec`. Measured on
//! the good sample: fork, its page faults and the `exec` that throws the copy away were a
//! seventh of the whole run's processor time.

/// Resource limits of every program: (resource, value).
const LIMITS: [(libc::__rlimit_resource_t, u64); 4] = [
    // No core dumps of crashing submissions in the working directory.
    (libc::RLIMIT_CORE, 0),
    // Address space: a runaway allocation fails in the program, not in the machine
    // (a JVM reserves a quarter of the memory for its heap: this leaves it room).
    (libc::RLIMIT_AS, 16 << 30),
    // Files written: a program cannot fill the disk.
    (libc::RLIMIT_FSIZE, 1 << 30),
    // Open descriptors: hundreds of clients at once fit.
    (libc::RLIMIT_NOFILE, 8192),
];

/// Seconds of CPU a program may use (`RLIMIT_CPU`, then `SIGXCPU`): far beyond any
/// scenario, short of a spinning program running on.
pub(crate) const CPU_SECONDS: u64 = 300;

/// Seconds of CPU past [`CPU_SECONDS`] before the kernel's `SIGKILL`.
const CPU_GRACE_SECONDS: u64 = 10;

/// Tasks for one user where no cgroup can cap a program (ignored for root).
pub(crate) const FALLBACK_NPROC: u64 = 4096;

/// One limit to set: its soft and hard values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    resource: libc::__rlimit_resource_t,
    soft: u64,
    hard: u64,
}

/// The limits of a program: [`LIMITS`] (the address space only if `address_space`), CPU
/// time, and the task cap `task_cap` where no cgroup holds one. Never above a hard limit
/// the harness itself has, which the program inherits: raising one needs privilege.
pub(crate) fn of_a_program(task_cap: Option<u64>, address_space: bool) -> Vec<Limit> {
    let hard_of = |resource| {
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct it is given.
        if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
            return libc::RLIM_INFINITY;
        }
        current.rlim_max
    };
    let capped = |resource, value: u64| {
        let value = value.min(hard_of(resource));
        Limit {
            resource,
            soft: value,
            hard: value,
        }
    };
    let mut limits: Vec<Limit> = LIMITS
        .into_iter()
        // A browser reserves far more address space than it uses (V8's cage alone).
        .filter(|(resource, _)| *resource != libc::RLIMIT_AS || address_space)
        .map(|(resource, value)| capped(resource, value))
        .collect();
    // CPU time: SIGXCPU at the soft limit (the report names it), SIGKILL a little later
    // for a program that ignores it.
    let grace = (CPU_SECONDS + CPU_GRACE_SECONDS).min(hard_of(libc::RLIMIT_CPU));
    limits.push(Limit {
        resource: libc::RLIMIT_CPU,
        soft: CPU_SECONDS.min(grace),
        hard: grace,
    });
    if let Some(cap) = task_cap {
        limits.push(capped(libc::RLIMIT_NPROC, cap));
    }
    limits
}

impl Limit {
    /// The value of `sandbox-init`'s `--rlimit`: `RESOURCE=SOFT:HARD`, the resource by the
    /// kernel's number (`RLIMIT_NOFILE` is 7).
    pub(crate) fn argument(&self) -> String {
        format!("{}={}:{}", self.resource, self.soft, self.hard)
    }

    /// Sets it on the calling process. Only `setrlimit`: async-signal-safe, so it may run
    /// between fork and exec.
    pub(crate) fn set(&self) {
        let limit = libc::rlimit {
            rlim_cur: self.soft,
            rlim_max: self.hard,
        };
        // SAFETY: setrlimit reads the struct it is given and changes only our own limits.
        unsafe { libc::setrlimit(self.resource, &limit) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_gets_every_limit_and_the_address_space_only_when_asked() {
        let with = of_a_program(Some(512), true);
        let resources: Vec<_> = with.iter().map(|limit| limit.resource).collect();
        assert_eq!(
            resources,
            [
                libc::RLIMIT_CORE,
                libc::RLIMIT_AS,
                libc::RLIMIT_FSIZE,
                libc::RLIMIT_NOFILE,
                libc::RLIMIT_CPU,
                libc::RLIMIT_NPROC
            ]
        );
        let cpu = with[4];
        assert!(cpu.soft <= cpu.hard && cpu.soft <= CPU_SECONDS, "{cpu:?}");
        let without = of_a_program(None, false);
        assert!(
            without
                .iter()
                .all(|limit| ![libc::RLIMIT_AS, libc::RLIMIT_NPROC].contains(&limit.resource)),
            "{without:?}"
        );
        assert_eq!(with[0].argument(), format!("{}=0:0", libc::RLIMIT_CORE));
    }
}
