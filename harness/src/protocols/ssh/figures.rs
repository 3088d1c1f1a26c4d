//! Judging what `ssh-info` printed against the remote machine's figures (SPEC ssh/1):
//! one labelled line each for the CPU model, the cores, the total and the available
//! memory, in any unit said.
//!
//! | figure | a line that | holds when |
//! |---|---|---|
//! | CPU model | holds the remote's model name (spaces and case aside) | always, if found |
//! | cores | is labelled `cores`, `CPUs`, `CPU(s)`, `processors`, `threads` or `nproc` | the remote's count is a number of it |
//! | total memory | says `total` and a size | the size is `MemTotal` |
//! | available memory | says `avail` or `free` and a size | the size is `MemAvailable` |
//!
//! A size is a number and a unit: `kB`, `KiB`, `MB`, `MiB`, `GB`, `GiB`, `TB`, `TiB`,
//! free's `Ki`, `Mi`, `Gi`, or `bytes`; `kB`, `MB`, `GB`, `TB` may mean powers of 1024 (as
//! `/proc/meminfo`'s `kB` does) or of 1000. It holds within what its last digit can say
//! (`62.8 GiB` is 62.75 to 62.85 GiB, give or take a truncation) and 0.2 %.
//!
//! Every line labelled as cores or total memory must say the remote's figure: a program
//! that prints this machine's figures beside the remote's does not pass. When a figure
//! is missing and this machine's is there instead, the report says so.
//!
//! A figure is read only from a line that states it: a count or a total (`Cores: 7`,
//! `MemTotal: ...`, `nproc`'s output alone on a line), never from a line of a
//! `/proc/cpuinfo` dump (`processor\t: 2`, `core id`, `siblings`, `cpu cores`, `cpu MHz`:
//! a field name, a tab, a colon). A program that prints the dump is told so, and that the
//! figure is not there: `processor\t: 2` is the third processor's number, not a count.
//!
//! stdout is data (SPEC conventions): a line of text that is none of the figures (neither
//! the model nor labelled as one: `model`, `CPU`, `cores`, `total`, `available`, `free`...)
//! fails, named in the report: `Connected, collecting system information` and `Done.` are
//! status messages, which belong on stderr. Blank lines pass (see [`stray_lines`]).

use std::sync::LazyLock;

use regex::Regex;

use super::Remote;

/// The local machine's figures, as the harness reads them (for the report only).
pub(super) fn local_machine() -> Option<Remote> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |text: &str, key: &str| {
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == key).then(|| value.trim().to_owned())
        })
    };
    let kib = |key: &str| {
        field(&meminfo, key)?
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(Remote {
        cpu_model: field(&cpuinfo, "model name").unwrap_or_default(),
        cores: std::thread::available_parallelism().map_or(1, |count| count.get() as u32),
        memory_total_kib: kib("MemTotal")?,
        memory_available_kib: kib("MemAvailable")?,
    })
}

/// Why the output does not give the remote's figures: (what was expected, what is
/// there), or `None` when it does.
pub(super) fn judge(
    stdout: &str,
    remote: &Remote,
    local: Option<&Remote>,
) -> Option<(String, String)> {
    let lines: Vec<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let model = normalise(&remote.cpu_model);
    let is_model = |line: &str| normalise(line).contains(&model);
    let dump: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| is_cpuinfo_field(line))
        .collect();
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    if !lines.iter().any(|line| is_model(line)) {
        missing.push(format!("line with the CPU model `{}`", remote.cpu_model));
    }
    let core_lines: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| is_cores_line(line) && !is_model(line))
        .collect();
    let says_cores = |line: &str| {
        NUMBER
            .find_iter(line)
            .any(|number| number.as_str().parse::<u64>() == Ok(u64::from(remote.cores)))
    };
    match core_lines.iter().find(|line| !says_cores(line)) {
        _ if core_lines.is_empty() => {
            missing.push(format!("line of cores saying {}", remote.cores))
        }
        Some(line) => wrong.push(format!("`{line}` (the remote has {} cores)", remote.cores)),
        None => {}
    }
    let memory = |label: &Regex,
                  kib: u64,
                  what: &str,
                  every: bool,
                  missing: &mut Vec<String>,
                  wrong: &mut Vec<String>| {
        let labelled: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|line| label.is_match(line) && !is_model(line))
            .collect();
        let with_size: Vec<&str> = labelled
            .iter()
            .copied()
            .filter(|line| !sizes(line).is_empty())
            .collect();
        let right = |line: &str| sizes(line).iter().any(|size| size.holds(kib * 1024));
        if with_size.is_empty() {
            missing.push(match labelled.first() {
                Some(line) => format!("{what} with its unit (`{line}` says no kB, MiB, GB...)"),
                None => format!("line of {what} ({kib} kB)"),
            });
        } else if !with_size.iter().any(|line| right(line)) {
            wrong.push(format!(
                "`{}` ({what} is {kib} kB, {})",
                with_size[0],
                in_units(kib)
            ));
        } else if every && let Some(line) = with_size.iter().find(|line| !right(line)) {
            wrong.push(format!("`{line}` ({what} is {kib} kB, {})", in_units(kib)));
        }
    };
    memory(
        &TOTAL_LABEL,
        remote.memory_total_kib,
        "the total memory",
        true,
        &mut missing,
        &mut wrong,
    );
    memory(
        &AVAILABLE_LABEL,
        remote.memory_available_kib,
        "the available memory",
        false,
        &mut missing,
        &mut wrong,
    );
    let stray = stray_lines(&lines, &is_model);
    if missing.is_empty() && wrong.is_empty() && stray.is_empty() && dump.is_empty() {
        return None;
    }
    let expected = format!(
        "the remote machine's figures, one labelled line each: CPU model `{}`, {} cores, {} kB total and {} kB available memory, in any unit said (SPEC ssh/1), and nothing else on stdout",
        remote.cpu_model, remote.cores, remote.memory_total_kib, remote.memory_available_kib
    );
    let mut seen = Vec::new();
    if !dump.is_empty() {
        let processors = dump
            .iter()
            .filter(|line| cpuinfo_field(line) == Some("processor"))
            .count();
        seen.push(format!(
            "the remote's /proc/cpuinfo as it came ({} lines of it, {processors} `processor` blocks), not the figures read from it: a line like `processor\t: 2` numbers one processor, it counts nothing; print the count on a line of its own (`Cores: {}`)",
            dump.len(),
            remote.cores
        ));
    }
    if !wrong.is_empty() {
        seen.push(wrong.join("; "));
    }
    if !missing.is_empty() {
        seen.push(format!("no {}", missing.join(", no ")));
    }
    if !stray.is_empty() {
        let named: Vec<String> = stray
            .iter()
            .take(STRAY_NAMED)
            .map(|line| format!("`{line}`"))
            .collect();
        let more = match stray.len().saturating_sub(STRAY_NAMED) {
            0 => String::new(),
            more => format!(" and {more} more"),
        };
        let (lines_word, is_word) = if stray.len() == 1 {
            ("line", "is")
        } else {
            ("lines", "are")
        };
        seen.push(format!(
            "the {lines_word} {}{more} on stdout {is_word} none of the figures: stdout carries only the program's data (SPEC conventions), status messages belong on stderr (print(..., file=sys.stderr))",
            named.join(", ")
        ));
    }
    let mut seen = seen.join("; ");
    if let Some(local) = local
        && looks_local(&lines, local, remote)
    {
        seen += "; these are this machine's figures, not the remote's: read them from commands run over SSH, not from the local /proc, os.cpu_count() or psutil";
    }
    if lines.is_empty() {
        seen = "nothing: the output is empty".into();
    }
    Some((expected, seen))
}

/// How many stray lines a report names.
const STRAY_NAMED: usize = 3;

/// The lines (trimmed, blank ones already left out by the caller) that are none of the
/// figures: neither holding the remote's model nor labelled as a figure. A line labelled
/// as a figure but saying the wrong one is not stray: it is judged as that figure (wrong,
/// or without its unit), and named once, there.
///
/// Blank lines are tolerated on purpose: they carry no text a reader could take for data
/// or that belongs on stderr, every figure is still one labelled line, and a `print()` to
/// set the figures apart is layout, not a message. A status line is text that is not data.
fn stray_lines<'l>(lines: &[&'l str], is_model: &dyn Fn(&str) -> bool) -> Vec<&'l str> {
    lines
        .iter()
        .copied()
        .filter(|line| !is_model(line) && !FIGURE_LABEL.is_match(line) && !is_cpuinfo_field(line))
        .collect()
}

/// Whether the output holds this machine's CPU model, or its cores or memory where the
/// remote's differ.
fn looks_local(lines: &[&str], local: &Remote, remote: &Remote) -> bool {
    let model = normalise(&local.cpu_model);
    let local_model = !model.is_empty()
        && normalise(&remote.cpu_model) != model
        && lines.iter().any(|line| normalise(line).contains(&model));
    let local_memory = local.memory_total_kib.abs_diff(remote.memory_total_kib)
        > remote.memory_total_kib / 50
        && lines.iter().any(|line| {
            TOTAL_LABEL.is_match(line)
                && sizes(line)
                    .iter()
                    .any(|size| size.holds(local.memory_total_kib * 1024))
        });
    let local_cores = local.cores != remote.cores
        && lines.iter().any(|line| {
            is_cores_line(line)
                && NUMBER
                    .find_iter(line)
                    .any(|number| number.as_str().parse::<u64>() == Ok(u64::from(local.cores)))
                && !NUMBER
                    .find_iter(line)
                    .any(|number| number.as_str().parse::<u64>() == Ok(u64::from(remote.cores)))
        });
    local_model || local_memory || local_cores
}

/// A line labelled as the cores (`Cores: 12`, `CPU(s): 12`), not as the model (`CPU
/// model: ...`, `Model name: ...`), a size, or a field of a `/proc/cpuinfo` dump.
fn is_cores_line(line: &str) -> bool {
    CORES_LABEL.is_match(line)
        && !MODEL_LABEL.is_match(line)
        && sizes(line).is_empty()
        && !is_cpuinfo_field(line)
}

/// The fields the kernel writes in each processor's block of `/proc/cpuinfo` (x86-64):
/// none is a count of the machine's processors.
const CPUINFO_FIELDS: &[&str] = &[
    "processor",
    "vendor_id",
    "cpu family",
    "model",
    "model name",
    "stepping",
    "microcode",
    "cpu MHz",
    "cache size",
    "physical id",
    "siblings",
    "core id",
    "cpu cores",
    "apicid",
    "initial apicid",
    "fpu",
    "fpu_exception",
    "cpuid level",
    "wp",
    "flags",
    "vmx flags",
    "bugs",
    "bogomips",
    "TLB size",
    "clflush size",
    "cache_alignment",
    "address sizes",
    "power management",
];

/// The field of a `/proc/cpuinfo` line as the kernel writes it (`processor\t: 2`: the
/// field's name as the kernel spells it, a tab, a colon), or `None`. The tab tells it
/// from a program's own label (`Processor: 12`, `processors: 12`).
fn cpuinfo_field(line: &str) -> Option<&'static str> {
    let (name, _) = line.split_once(':')?;
    // `power management:` is the one field with nothing after it (and no tab).
    if !name.contains('\t') && name != "power management" {
        return None;
    }
    let name = name.trim_end_matches(['\t', ' ']);
    CPUINFO_FIELDS.iter().copied().find(|field| *field == name)
}

/// Whether `line` is a line of a `/proc/cpuinfo` dump (see [`cpuinfo_field`]).
fn is_cpuinfo_field(line: &str) -> bool {
    cpuinfo_field(line).is_some()
}

/// Lower case, runs of spaces as one.
fn normalise(text: &str) -> String {
    text.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `kib` in MiB and GiB, for the report.
fn in_units(kib: u64) -> String {
    format!(
        "{:.0} MiB, {:.1} GiB",
        kib as f64 / 1024.0,
        kib as f64 / 1024.0 / 1024.0
    )
}

static CORES_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(cores?|cpus?|cpu\(s\)|processors?|threads?|nproc|vcpus?)\b").expect("valid")
});
static MODEL_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)model|name|vendor").expect("valid"));
static TOTAL_LABEL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)total").expect("valid"));
static AVAILABLE_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)avail|free").expect("valid"));
/// Any figure's label: the model's (`CPU model`, `Processor`, `Model name`), the
/// cores' ([`CORES_LABEL`]), the memory's ([`TOTAL_LABEL`], [`AVAILABLE_LABEL`]).
static FIGURE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)model|\b(cores?|cpus?|cpu\(s\)|processors?|threads?|nproc|vcpus?)\b|total|avail|free",
    )
    .expect("valid")
});
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d+\b").expect("valid"));
static SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(\d+(?:[.,]\d+)?)\s*(tib|gib|mib|kib|tb|gb|mb|kb|ti|gi|mi|ki|t|g|m|k|bytes|b)\b",
    )
    .expect("valid")
});

/// A size as printed: its value, how many decimals it was given with, the byte counts
/// its unit may stand for.
#[derive(Debug)]
struct Size {
    value: f64,
    decimals: i32,
    units: Vec<f64>,
}

impl Size {
    /// Whether it says `bytes`, within its last digit and 0.2 %.
    fn holds(&self, bytes: u64) -> bool {
        let bytes = bytes as f64;
        self.units.iter().any(|unit| {
            let step = unit * 10f64.powi(-self.decimals);
            (self.value * unit - bytes).abs() <= step + bytes * 0.002
        })
    }
}

/// The sizes a line says.
fn sizes(line: &str) -> Vec<Size> {
    SIZE.captures_iter(line)
        .filter_map(|captures| {
            let number = captures[1].replace(',', ".");
            let decimals = number
                .split_once('.')
                .map_or(0, |(_, fraction)| fraction.len() as i32);
            let (binary, decimal): (f64, Option<f64>) = match captures[2].to_lowercase().as_str() {
                "kib" | "ki" => (1024.0, None),
                "mib" | "mi" => (1048576.0, None),
                "gib" | "gi" => (1073741824.0, None),
                "tib" | "ti" => (1099511627776.0, None),
                "kb" | "k" => (1024.0, Some(1e3)),
                "mb" | "m" => (1048576.0, Some(1e6)),
                "gb" | "g" => (1073741824.0, Some(1e9)),
                "tb" | "t" => (1099511627776.0, Some(1e12)),
                _ => (1.0, None),
            };
            Some(Size {
                value: number.parse().ok()?,
                decimals,
                units: std::iter::once(binary).chain(decimal).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Remote {
        Remote::example()
    }

    fn local() -> Remote {
        Remote {
            cpu_model: "AMD EPYC".into(),
            cores: 2,
            memory_total_kib: 24684096,
            memory_available_kib: 23599272,
        }
    }

    #[test]
    fn the_references_lines_and_other_wordings_hold() {
        let outputs = [
            "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nMemory total: 64288 MiB\nMemory available: 42197 MiB\n",
            "Model name:   Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCPU(s): 12\nTotal memory: 62.78 GiB\nAvailable memory: 41.21 GiB\n",
            "cpu: intel(r) xeon(r) gold 6338n cpu @ 2.20ghz\nnumber of processors: 12\nMemTotal: 65830400 kB\nMemAvailable: 43210000 kB\n",
            "Processor: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nLogical CPUs = 12\n\nRAM total 67.4 GB\nRAM free (available) 44.2 GB\n\n",
            "CPU Model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nTotal Memory: 62Gi\nAvailable Memory: 41Gi\n",
        ];
        for output in outputs {
            assert_eq!(judge(output, &remote(), Some(&local())), None, "{output}");
        }
    }

    #[test]
    fn a_line_that_is_no_figure_fails_and_is_named() {
        let figures = "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nMemory total: 64288 MiB\nMemory available: 42197 MiB\n";
        let chatty = format!("Connected, collecting system information\n\n{figures}Done.\n");
        let (expected, seen) = judge(&chatty, &remote(), Some(&local())).unwrap();
        assert!(expected.contains("nothing else on stdout"), "{expected}");
        assert!(
            seen.starts_with(
                "the lines `Connected, collecting system information`, `Done.` on stdout are none of the figures"
            ),
            "{seen}"
        );
        assert!(seen.contains("status messages belong on stderr"), "{seen}");
        let (_, seen) = judge(
            &format!("Remote host 127.0.0.1\n{figures}"),
            &remote(),
            None,
        )
        .unwrap();
        assert!(
            seen.starts_with("the line `Remote host 127.0.0.1` on stdout is none"),
            "{seen}"
        );
        // Blank lines are layout: they pass.
        let spaced = format!("\n{}\n\n", figures.replace('\n', "\n\n"));
        assert_eq!(judge(&spaced, &remote(), None), None);
        // A figure's line saying the wrong figure is named as that, once.
        let wrong = figures.replace("Cores: 12", "Cores: 2");
        let (_, seen) = judge(&wrong, &remote(), None).unwrap();
        assert_eq!(seen, "`Cores: 2` (the remote has 12 cores)");
    }

    #[test]
    fn local_figures_are_named_as_such() {
        let output =
            "CPU model: AMD EPYC\nCores: 2\nMemory total: 24105 MiB\nMemory available: 23046 MiB\n";
        let (_, seen) = judge(output, &remote(), Some(&local())).unwrap();
        assert!(seen.contains("this machine's figures"), "{seen}");
        assert!(
            seen.contains("`Cores: 2` (the remote has 12 cores)"),
            "{seen}"
        );
    }

    #[test]
    fn a_cpuinfo_dump_is_named_and_none_of_its_lines_is_a_count() {
        // The remote's own dump: `processor\t: 2` is there, and this machine has 2 cores.
        let remote = remote();
        let mut dump = String::new();
        for processor in 0..remote.cores {
            dump += &format!(
                "processor\t: {processor}\nmodel name\t: {}\ncpu MHz\t\t: 2200.000\nsiblings\t: {}\ncore id\t\t: {}\ncpu cores\t: 6\npower management:\n\n",
                remote.cpu_model,
                remote.cores,
                processor / 2
            );
        }
        dump += "               total        used        free      shared  buff/cache   available\nMem:           64287       22090       21098           4       21097       42197\n";
        let (_, seen) = judge(&dump, &remote, Some(&local())).unwrap();
        assert!(
            seen.starts_with("the remote's /proc/cpuinfo as it came (84 lines of it, 12 `processor` blocks), not the figures read from it"),
            "{seen}"
        );
        assert!(seen.contains("no line of cores saying 12"), "{seen}");
        assert!(!seen.contains("this machine's figures"), "{seen}");
        assert!(!seen.contains("processor\t: 0` (the remote"), "{seen}");
        // A program's own labels are not the kernel's fields.
        let own = "Processor: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nprocessors: 12\nMemory total: 64288 MiB\nMemory available: 42197 MiB\n";
        assert_eq!(judge(own, &remote, Some(&local())), None);
    }

    #[test]
    fn a_size_needs_its_unit_and_the_right_value() {
        let no_unit = "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nMemory total: 64288\nMemory available: 42197 MiB\n";
        let (_, seen) = judge(no_unit, &remote(), None).unwrap();
        assert!(seen.contains("with its unit"), "{seen}");
        let swapped = "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nMemory total: 42197 MiB\nMemory available: 42197 MiB\n";
        assert!(judge(swapped, &remote(), None).is_some());
        let both = "CPU model: Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz\nCores: 12\nCores: 2\nMemory total: 64288 MiB\nMemory available: 42197 MiB\n";
        assert!(judge(both, &remote(), None).is_some());
        assert_eq!(
            judge("", &remote(), None).unwrap().1,
            "nothing: the output is empty"
        );
    }
}
