//! The remote machine's figures, read from what its kernel reports: `/proc/cpuinfo` (one
//! block per logical processor, `key : value` lines) and `/proc/meminfo` (`Key: N kB`
//! lines, where "kB" means KiB, 1024 bytes: proc(5)); the kernel separates a cpuinfo key
//! from its colon with tabs.
//!
//! ```text
//! processor  : 0                         MemTotal:       65830400 kB
//! model name : Intel(R) Xeon(R) ...        MemFree:        12345678 kB
//! ...                                     MemAvailable:   43210000 kB
//! processor  : 1                         ...
//! ```
//!
//! The number of cores asked for is the number of logical processors (what `nproc` and
//! Python's `os.cpu_count()` say): the `processor` blocks, not `cpu cores` (physical
//! cores of one package) nor `siblings`.

/// What `ssh-info` prints of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// `model name` of the first processor (`Hardware` or `cpu model` where a
    /// architecture has no `model name`: some ARM and MIPS kernels).
    pub cpu_model: String,
    /// Logical processors: the `processor` lines.
    pub cores: usize,
    /// `MemTotal`, in KiB.
    pub memory_total_kib: u64,
    /// `MemAvailable`, in KiB: what can be had without swapping (Linux 3.14 and later).
    pub memory_available_kib: u64,
}

impl Figures {
    /// Reads the figures from the text of `/proc/cpuinfo` and `/proc/meminfo`, or says
    /// which figure is missing.
    pub fn parse(cpuinfo: &str, meminfo: &str) -> Result<Figures, String> {
        let fields = |text: &'static str| {
            move |line: &str| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == text).then(|| value.trim().to_owned())
            }
        };
        let cores = cpuinfo.lines().filter_map(fields("processor")).count();
        if cores == 0 {
            return Err("/proc/cpuinfo names no processor".into());
        }
        let cpu_model = ["model name", "Hardware", "cpu model"]
            .into_iter()
            .find_map(|key| cpuinfo.lines().find_map(fields(key)))
            .filter(|model| !model.is_empty())
            .ok_or("/proc/cpuinfo has no model name")?;
        let kib = |key: &str| -> Result<u64, String> {
            meminfo
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    (name.trim() == key).then_some(value)
                })
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| format!("/proc/meminfo has no {key}"))
        };
        Ok(Figures {
            cpu_model,
            cores,
            memory_total_kib: kib("MemTotal")?,
            memory_available_kib: kib("MemAvailable")?,
        })
    }

    /// The four labelled lines, memory in MiB rounded to the nearest.
    pub fn lines(&self) -> String {
        let mib = |kib: u64| (kib + 512) / 1024;
        format!(
            "CPU model: {}\nCores: {}\nMemory total: {} MiB\nMemory available: {} MiB\n",
            self.cpu_model,
            self.cores,
            mib(self.memory_total_kib),
            mib(self.memory_available_kib)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\ncpu cores\t: 2\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\ncpu cores\t: 2\n\nprocessor\t: 2\n\nprocessor\t: 3\n";
    const MEMINFO: &str =
        "MemTotal:       65830400 kB\nMemFree:         1234567 kB\nMemAvailable:   43210000 kB\n";

    #[test]
    fn figures_from_the_two_files() {
        let figures = Figures::parse(CPUINFO, MEMINFO).unwrap();
        assert_eq!(
            figures.cpu_model,
            "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz"
        );
        assert_eq!(figures.cores, 4, "processor lines, not `cpu cores`");
        assert_eq!(
            figures.lines(),
            "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 4\nMemory total: 64288 MiB\nMemory available: 42197 MiB\n"
        );
    }

    #[test]
    fn a_missing_figure_is_named() {
        assert!(
            Figures::parse("", MEMINFO)
                .unwrap_err()
                .contains("processor")
        );
        let no_available = "MemTotal: 1000 kB\n";
        assert!(
            Figures::parse(CPUINFO, no_available)
                .unwrap_err()
                .contains("MemAvailable")
        );
        let arm = "processor\t: 0\nHardware\t: BCM2835\n";
        assert_eq!(Figures::parse(arm, MEMINFO).unwrap().cpu_model, "BCM2835");
    }
}
